import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { createAppContext } from './context.ts';
import { resolveMasterKey } from './crypto/master-key.ts';
import { listenForKeyChanges, openVault, startVaultRefresh } from './crypto/vault.ts';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './db/database.ts';
import { createLifecycle } from './http/lifecycle.ts';
import { createMetrics } from './observability/metrics.ts';
import { limitHeapGrowth } from './runtime/heap-growth.ts';
import { enableSandbox, loadConfiguredCatalogue } from './sandbox/setup.ts';
import { startRefreshWorker } from './services/refresh-worker.ts';
import { bootstrapDefaultProject } from './services/tenancy.ts';
import { startDispatcher } from './webhooks/dispatcher.ts';

export interface RunningServer {
  app: FastifyInstance;
  database: DatabaseHandle;
  url: string;
  /**
   * Graceful stop: readiness turns 503 at once, requests keep being served for `graceMs` (so load
   * balancers take this process out), then the listener closes, requests in flight finish, and the
   * webhook and refresh workers finish what they hold.
   */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the database, applies migrations, listens, and creates the default project on first start.
 * `onBootstrapKey` receives the default project's new key so the caller can show it, once. The project
 * is created only once the server listens: a start that fails (port taken, Redis down…) leaves no
 * project behind, so the next start creates it and shows its key, instead of a key nobody saw.
 */
export async function startServer(
  config: Config,
  onBootstrapKey: (created: { project_id: string; api_key: string; chosen: boolean }) => void,
): Promise<RunningServer> {
  limitHeapGrowth(config.heapGrowthPercent);
  // Fail fast on a broken connector file, before touching the database.
  const catalogue = loadConfiguredCatalogue(config);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    purpose: 'plugboard serve',
    // Background refreshes hold a connection each while the token endpoint answers: on top of the API's.
    poolSize: 10 + (config.refresh.workerInProcess ? config.refresh.concurrency : 0),
  });
  try {
    await migrateToLatest(database.db);
    const masterKey = resolveMasterKey(config);
    const vault = await openVault(database.db, masterKey.key);
    const metrics = createMetrics(database.db);
    const context = createAppContext({ config, db: database.db, vault, catalogue });
    const lifecycle = createLifecycle();
    const app = await buildApp({ ...context, metrics, listen: database.listen, lifecycle });
    if (masterKey.warning) app.log.warn(masterKey.warning);
    const onRingError = (err: unknown) => app.log.warn({ err }, 'key ring refresh failed');
    const stopRefresh = startVaultRefresh(vault, 30_000, onRingError);
    const stopKeyNotices = await listenForKeyChanges(vault, database.listen, onRingError);
    // Token refresh runs here too unless dedicated `plugboard worker` processes take it over.
    const refresher = config.refresh.workerInProcess
      ? startRefreshWorker({
          db: database.db,
          vault,
          catalogue,
          outbound: context.outbound,
          config: config.refresh,
          log: app.log,
          metrics,
        })
      : undefined;
    // Webhook delivery runs here unless dedicated `plugboard worker` processes take it over.
    const dispatcher = config.webhooks.workerInProcess
      ? startDispatcher({
          db: database.db,
          vault,
          config: config.webhooks,
          listen: database.listen,
          log: app.log,
          metrics,
        })
      : undefined;
    app.addHook('onClose', async () => {
      stopRefresh();
      await Promise.all([refresher?.stop(), dispatcher?.stop(), stopKeyNotices()]);
      // Closed last: refreshes in flight still use its connections.
      await context.outbound.close();
    });
    await app.listen({ host: config.host, port: config.port });
    const created = await bootstrapDefaultProject(
      database.db,
      config.bootstrapApiKey,
      config.sandbox ? (tx, projectId) => enableSandbox(tx, projectId, catalogue) : undefined,
    );
    if (created) onBootstrapKey({ ...created, chosen: config.bootstrapApiKey !== undefined });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    return {
      app,
      database,
      url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
      drain: async (graceMs) => {
        lifecycle.draining = true;
        await new Promise((resolve) => setTimeout(resolve, graceMs));
        await app.close();
        await database.close();
      },
      close: async () => {
        await app.close();
        await database.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
