import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { createAppContext } from './context.ts';
import { resolveMasterKey } from './crypto/master-key.ts';
import { openVault, startVaultRefresh } from './crypto/vault.ts';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './db/database.ts';
import { createMetrics } from './observability/metrics.ts';
import { enableSandbox, loadConfiguredCatalogue } from './sandbox/setup.ts';
import { bootstrapDefaultProject } from './services/tenancy.ts';
import { startTokenRefresher } from './services/token-refresh.ts';
import { startDispatcher } from './webhooks/dispatcher.ts';

export interface RunningServer {
  app: FastifyInstance;
  database: DatabaseHandle;
  url: string;
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
  // Fail fast on a broken connector file, before touching the database.
  const catalogue = loadConfiguredCatalogue(config);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    purpose: 'plugboard serve',
  });
  try {
    await migrateToLatest(database.db);
    const masterKey = resolveMasterKey(config);
    const vault = await openVault(database.db, masterKey.key);
    const metrics = createMetrics(database.db);
    const context = createAppContext({ config, db: database.db, vault, catalogue });
    const app = await buildApp({ ...context, metrics, listen: database.listen });
    app.addHook('onClose', () => context.outbound.close());
    if (masterKey.warning) app.log.warn(masterKey.warning);
    const stopRefresh = startVaultRefresh(vault, 30_000, (err) =>
      app.log.warn({ err }, 'key ring refresh failed'),
    );
    const stopTokenRefresher = startTokenRefresher(
      { db: database.db, vault, catalogue, outbound: context.outbound },
      60_000,
      (err) => app.log.warn({ err }, 'background token refresh failed'),
    );
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
      stopTokenRefresher();
      await dispatcher?.stop();
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
