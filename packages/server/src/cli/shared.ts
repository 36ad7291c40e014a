import { InvalidArgumentError } from 'commander';
import type { Config } from '../config.ts';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../db/database.ts';

/** Runs fn against a migrated database, always closing it (and releasing the PGlite lock) after. */
export async function withDatabase<T>(
  config: Config,
  purpose: string,
  fn: (handle: DatabaseHandle) => Promise<T>,
): Promise<T> {
  const handle = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    purpose,
    poolSize: 2,
  });
  try {
    await migrateToLatest(handle.db);
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

export function print(value: unknown, json: boolean, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

export const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};
