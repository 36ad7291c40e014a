import pino, { type LoggerOptions } from 'pino';
import type { Config } from '../config.ts';
import { resolveMasterKey } from '../crypto/master-key.ts';
import { openVault, startVaultRefresh } from '../crypto/vault.ts';
import { migrateToLatest, openDatabase } from '../db/database.ts';
import { loggerOptions } from '../http/logging.ts';
import { startDispatcher } from '../webhooks/dispatcher.ts';

/**
 * `plugboard worker`: delivers webhooks until SIGTERM/SIGINT, then finishes the sends in flight.
 * Many can run against one PostgreSQL; each delivery is claimed by one of them at a time.
 */
export async function runWorker(config: Config): Promise<void> {
  // The API's logger settings, redaction included: worker errors can carry request details too.
  const log = pino(loggerOptions(config.logLevel) as LoggerOptions);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    purpose: 'plugboard worker',
    poolSize: 4,
  });
  await migrateToLatest(database.db);
  const masterKey = resolveMasterKey(config);
  const vault = await openVault(database.db, masterKey.key);
  const stopVaultRefresh = startVaultRefresh(vault, 30_000, (err) =>
    log.warn({ err }, 'key ring refresh failed'),
  );
  const dispatcher = startDispatcher({
    db: database.db,
    vault,
    config: config.webhooks,
    listen: database.listen,
    log,
  });
  log.info({ database: database.kind }, 'webhook worker started');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('webhook worker stopping: finishing deliveries in flight');
  setTimeout(() => process.exit(1), config.webhooks.timeoutMs + 5_000).unref();
  stopVaultRefresh();
  await dispatcher.stop();
  await database.close();
}
