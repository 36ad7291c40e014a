import pino, { type LoggerOptions } from 'pino';
import type { Config } from '../config.ts';
import { loadCatalogue } from '../connectors/catalogue.ts';
import { createAppContext } from '../context.ts';
import { resolveMasterKey } from '../crypto/master-key.ts';
import { listenForKeyChanges, openVault, startVaultRefresh } from '../crypto/vault.ts';
import { migrateToLatest, openDatabase } from '../db/database.ts';
import { loggerOptions } from '../http/logging.ts';
import { limitHeapGrowth } from '../runtime/heap-growth.ts';
import { startRefreshWorker } from '../services/refresh-worker.ts';
import { startDispatcher } from '../webhooks/dispatcher.ts';

/**
 * `plugboard worker`: delivers webhooks and refreshes OAuth tokens until SIGTERM/SIGINT, then finishes
 * the work in flight. Many can run against one PostgreSQL; each delivery and each account refresh is
 * claimed by one of them at a time.
 */
export async function runWorker(config: Config): Promise<void> {
  limitHeapGrowth(config.heapGrowthPercent);
  // The API's logger settings, redaction included: worker errors can carry request details too.
  const log = pino(loggerOptions(config.logLevel) as LoggerOptions);
  const catalogue = loadCatalogue();
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    purpose: 'plugboard worker',
    // A refresh holds its connection while the token endpoint answers (the row lock): one each, plus
    // room for claims and webhook deliveries.
    poolSize: config.refresh.concurrency + 4,
  });
  await migrateToLatest(database.db);
  const masterKey = resolveMasterKey(config);
  const vault = await openVault(database.db, masterKey.key);
  const onRingError = (err: unknown) => log.warn({ err }, 'key ring refresh failed');
  const stopVaultRefresh = startVaultRefresh(vault, 30_000, onRingError);
  const stopKeyNotices = await listenForKeyChanges(vault, database.listen, onRingError);
  const context = createAppContext({ config, db: database.db, vault, catalogue });
  const dispatcher = startDispatcher({
    db: database.db,
    vault,
    config: config.webhooks,
    listen: database.listen,
    log,
  });
  const refresher = startRefreshWorker({
    db: database.db,
    vault,
    catalogue,
    outbound: context.outbound,
    config: config.refresh,
    log,
  });
  log.info({ database: database.kind }, 'worker started: webhook delivery and token refresh');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('worker stopping: finishing deliveries and refreshes in flight');
  setTimeout(
    () => process.exit(1),
    Math.max(config.webhooks.timeoutMs, config.providerTimeoutMs) + 5_000,
  ).unref();
  stopVaultRefresh();
  await Promise.all([dispatcher.stop(), refresher.stop(), stopKeyNotices()]);
  await context.outbound.close();
  await database.close();
}
