/**
 * The server side of the benchmark. bench/connect-sessions.ts forks this file once per target so the
 * server gets its own process (event loop, heap, garbage collector) and the load generator does not
 * steal its time: with both in one thread, the client's own work would be counted as server latency.
 *
 * Protocol (over the fork IPC channel): the spec comes as argv[2] (JSON); this process answers
 * `{ ready }` or `{ error }`, serves until the parent sends 'close' or goes away, then cleans up
 * (closes the app, drops the PostgreSQL database, removes the PGlite directory) and exits.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { loadCatalogue } from '../packages/server/src/connectors/catalogue.ts';
import { openVault } from '../packages/server/src/crypto/vault.ts';
import {
  type DatabaseHandle,
  type Db,
  migrateToLatest,
  openDatabase,
} from '../packages/server/src/db/database.ts';
import { createProject } from '../packages/server/src/services/tenancy.ts';

export type Backend = 'pglite-memory' | 'pglite-disk' | 'postgres';

export type TargetSpec = { kind: 'bare' } | { kind: 'plugboard'; backend: Backend; tokens: number };

export interface Ready {
  url: string;
  /** Plugboard targets only. */
  apiKey?: string;
  /** Session tokens created before the run, for the authenticate scenario to rotate through. */
  tokens?: string[];
  /** What the database says it is, for the report. */
  database?: string;
}

export type TargetMessage = { ready: Ready } | { error: string };

async function listen(app: FastifyInstance): Promise<string> {
  // Port 0: the OS picks a free port; loopback only, nothing is reachable from outside.
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the server has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** The baseline: what Fastify alone costs per request on this machine. */
async function startBare(): Promise<{ ready: Ready; close: () => Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ ok: true }));
  return { ready: { url: await listen(app) }, close: () => app.close() };
}

/** A fresh, migrated database of the requested kind, and how to throw it away afterwards. */
async function openBackend(backend: Backend): Promise<DatabaseHandle> {
  if (backend === 'postgres') return openPostgres();
  if (backend === 'pglite-memory')
    return migrated(await openDatabase({ databaseUrl: undefined, dataDir: 'memory' }));
  const dir = await mkdtemp(path.join(tmpdir(), 'plugboard-bench-'));
  const handle = await migrated(await openDatabase({ databaseUrl: undefined, dataDir: dir }));
  return {
    ...handle,
    close: async () => {
      await handle.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function migrated(handle: DatabaseHandle): Promise<DatabaseHandle> {
  await migrateToLatest(handle.db);
  return handle;
}

/**
 * A new database on DATABASE_URL's server, dropped on close. Like the tests' createTestDatabase, but
 * the drop waits for the pool's connections to be gone instead of forcing them: pg's pool.end()
 * resolves before its sockets close, and a forced drop then kills them mid-close, which surfaces as an
 * unhandled 'error' event on the pool and crashes the process.
 */
async function openPostgres(): Promise<DatabaseHandle> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is needed for the postgres backend');
  const name = `plugboard_bench_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = await migrated(await openDatabase({ databaseUrl: url.toString(), dataDir: 'memory' }));
  return {
    ...handle,
    close: async () => {
      await handle.close();
      await withAdmin(adminUrl, async (client) => {
        for (let i = 0; i < 50; i++) {
          const { rows } = await client.query<{ n: number }>(
            'select count(*)::int as n from pg_stat_activity where datname = $1',
            [name],
          );
          if (rows[0]?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await client.query(`drop database if exists ${name}`);
      });
    },
  };
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function startPlugboard(backend: Backend, tokenCount: number) {
  const database = await openBackend(backend);
  try {
    // An explicit env, not process.env: LOG_LEVEL or REDIS_URL from the shell must not change the run.
    const config = loadConfig({ LOG_LEVEL: 'silent', PLUGBOARD_RATE_LIMIT_PER_MINUTE: '100000000' });
    const vault = await openVault(database.db, randomBytes(32));
    const app = await buildApp({ config, db: database.db, vault, catalogue: loadCatalogue() });
    const { api_key } = await createProject(database.db, { name: 'bench' });
    const tokens = await createTokens(app, api_key, tokenCount);
    const ready: Ready = {
      url: await listen(app),
      apiKey: api_key,
      tokens,
      database: await describeDatabase(database.db, backend),
    };
    return {
      ready,
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

async function describeDatabase(db: Db, backend: Backend): Promise<string> {
  const { rows } = await sql<{ server_version: string }>`show server_version`.execute(db);
  const version = rows[0]?.server_version ?? '?';
  if (backend === 'postgres') return `PostgreSQL ${version}`;
  return `PGlite (PostgreSQL ${version}), ${backend === 'pglite-memory' ? 'in memory' : 'on disk'}`;
}

/** Creates the token pool through the API itself (in-process inject), so it depends only on the wire contract. */
async function createTokens(app: FastifyInstance, apiKey: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/connect_sessions',
      headers: { authorization: `Bearer ${apiKey}` },
      payload: { origin_owner_id: `customer-${i}`, origin_owner_name: 'Acme' },
    });
    if (res.statusCode !== 201) {
      throw new Error(`creating session ${i} for the token pool failed: ${res.statusCode} ${res.body}`);
    }
    tokens.push(res.json<{ token: string }>().token);
  }
  return tokens;
}

async function main() {
  const send = (message: TargetMessage) => process.send?.(message);
  const spec = JSON.parse(process.argv[2] ?? '{}') as TargetSpec;
  let target: { ready: Ready; close: () => Promise<void> };
  try {
    target = spec.kind === 'bare' ? await startBare() : await startPlugboard(spec.backend, spec.tokens);
  } catch (err) {
    send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    try {
      await target.close();
      process.exit(0);
    } catch (err) {
      console.error('bench target: clean-up failed (a database or directory may be left over):', err);
      process.exit(1);
    }
  };
  process.on('message', (message) => message === 'close' && void shutdown());
  // The parent died or hit its deadline: still drop the database and remove the directory.
  process.on('disconnect', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  send({ ready: target.ready });
}

await main();
