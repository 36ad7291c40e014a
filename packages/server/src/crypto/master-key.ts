import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';

/**
 * The master key that wraps the data-encryption keys. From PLUGBOARD_MASTER_KEY when set (production,
 * and required for several processes to share one PostgreSQL); otherwise from <dataDir>/master.key,
 * created on first use so `npm start` works with no configuration.
 */
export function resolveMasterKey(config: Pick<Config, 'masterKey' | 'dataDir'>): {
  key: Buffer;
  source: 'env' | 'file';
} {
  if (config.masterKey) return { key: config.masterKey, source: 'env' };
  const file = path.join(config.dataDir, 'master.key');
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32)
    throw new Error(`${file} does not hold a 32-byte base64 key; restore it from your backup.`);
  return { key, source: 'file' };
}
