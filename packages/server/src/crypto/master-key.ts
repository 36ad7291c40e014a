import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';

export interface MasterKey {
  key: Buffer;
  source: 'env' | 'file';
  /** The key file, when the key came from one. */
  file?: string;
  /**
   * Set when the key came from a local file while the database is PostgreSQL: every process sharing
   * that database needs the same key, which a file in one machine's data directory does not give.
   */
  warning?: string;
}

/**
 * The master key that wraps the data-encryption keys. From PLUGBOARD_MASTER_KEY when set (production,
 * and needed for several processes to share one PostgreSQL); otherwise from <dataDir>/master.key,
 * created on first use (32 random bytes, base64, mode 0600) so `npm start` works with no configuration.
 */
export function resolveMasterKey(
  config: Pick<Config, 'masterKey' | 'dataDir'> & { databaseUrl?: string | undefined },
): MasterKey {
  if (config.masterKey) return { key: config.masterKey, source: 'env' };
  const file = path.join(config.dataDir, 'master.key');
  createKeyFile(file);
  const text = fs.readFileSync(file, 'utf8').trim();
  const key = Buffer.from(text, /^[0-9a-f]{64}$/i.test(text) ? 'hex' : 'base64');
  if (key.length !== 32) {
    throw new Error(
      `${file} does not hold a 32-byte key (base64 or 64 hex characters); restore it from your backup, or set PLUGBOARD_MASTER_KEY.`,
    );
  }
  const warning = config.databaseUrl
    ? `PLUGBOARD_MASTER_KEY is not set: using the key file ${file}. Every process sharing this PostgreSQL database needs the same master key; set PLUGBOARD_MASTER_KEY.`
    : undefined;
  return { key, source: 'file', file, warning };
}

/**
 * Creates the key file unless it exists. The key is written to a temporary file and then hard-linked
 * into place, so a process starting at the same moment sees either no file or a complete one.
 */
function createKeyFile(file: string): void {
  if (fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temp, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  try {
    fs.linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.unlinkSync(temp);
  }
}
