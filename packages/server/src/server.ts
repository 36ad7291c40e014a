import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './db/database.ts';
import { bootstrapDefaultProject } from './services/tenancy.ts';

export interface RunningServer {
  app: FastifyInstance;
  database: DatabaseHandle;
  url: string;
  close(): Promise<void>;
}

/**
 * Opens the database, applies migrations, creates the default project on first start, and listens.
 * `onBootstrapKey` receives the default project's new key so the caller can show it, once.
 */
export async function startServer(
  config: Config,
  onBootstrapKey: (created: { project_id: string; api_key: string; chosen: boolean }) => void,
): Promise<RunningServer> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    purpose: 'plugboard serve',
  });
  try {
    await migrateToLatest(database.db);
    const created = await bootstrapDefaultProject(database.db, config.bootstrapApiKey);
    if (created) onBootstrapKey({ ...created, chosen: config.bootstrapApiKey !== undefined });
    const app = await buildApp({ config, db: database.db });
    await app.listen({ host: config.host, port: config.port });
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
