import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.ts';
import { createPostgresListener, type Listen } from './listener.ts';
import { migrations } from './migrations/index.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

export interface DatabaseHandle {
  db: Db;
  kind: 'postgres' | 'pglite';
  /**
   * Calls onNotify with the payload of every NOTIFY on the channel (sent by any process, delivered on
   * commit); `lost` when the listening connection goes away (notices may then be missed) and `restored`
   * when it listens again on a new one. Resolves to the function that stops listening. On PostgreSQL all
   * channels share one connection (src/db/listener.ts), so a loss reaches every subscriber; PGlite
   * listens inside its own client and never loses it.
   */
  listen: Listen;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A postgres:// URL, or undefined for the embedded PGlite database. */
  databaseUrl: string | undefined;
  /** Plugboard's data directory (PGlite files live in its pgdata/ folder); 'memory' keeps PGlite in RAM. */
  dataDir: string | 'memory';
  /** Shown to a second process that finds the data directory locked. */
  purpose?: string;
  poolSize?: number;
}

/** PostgreSQL did not answer at start-up; the message names the server (never the password) and the fix. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/** Connects once, with a time limit, so a wrong DATABASE_URL fails at start-up in one readable line. */
async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    let where = 'the server in DATABASE_URL';
    try {
      const u = new URL(url);
      where = `${u.hostname}:${u.port || '5432'}${u.pathname.length > 1 ? u.pathname : ''}`;
    } catch {
      // Unparseable here, but pg accepted it: keep the generic wording.
    }
    // Happy-eyeballs failures are AggregateErrors with an empty message but a code.
    const reason = e.message || e.code || String(err);
    throw new DatabaseUnreachableError(
      `cannot connect to PostgreSQL at ${where} (${reason}). Check DATABASE_URL and that PostgreSQL is running and reachable.`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** PGlite databases: one connection, which a transaction holds until it ends. */
const oneConnection = new WeakSet<Db>();

/**
 * True for PGlite. Code that would hold a transaction open across a slow call (a provider request)
 * must not on such a database: every other query waits meanwhile, including any the call itself needs.
 */
export const holdsOneConnection = (db: Db): boolean => oneConnection.has(db);

/**
 * shared_buffers is PostgreSQL's own page cache, allocated inside PGlite's WebAssembly memory up front.
 * The default (128MB) cost about 115 MB of RSS more than 16MB in bench/pglite-memory.ts, and the
 * embedded database is meant for single-process installs whose data fits the OS page cache anyway.
 */
const PGLITE_OPTIONS = { postgresqlconf: ['shared_buffers = 16MB'] };

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    await probePostgres(options.databaseUrl);
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle connection dropped by the server (restart, failover, pg_terminate_backend) is an 'error'
    // event on the pool, which would crash the process if unhandled. The pool has already discarded
    // that connection and opens a new one on the next query, so there is nothing else to do.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const listener = createPostgresListener(options.databaseUrl);
    return {
      db,
      kind: 'postgres',
      listen: isolating(listener.listen),
      close: async () => {
        await listener.close();
        await db.destroy();
      },
    };
  }
  if (options.dataDir === 'memory') {
    const client = await PGlite.create(PGLITE_OPTIONS);
    const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
    oneConnection.add(db);
    return { db, kind: 'pglite', listen: isolating(listenPGlite(client)), close: () => db.destroy() };
  }
  const lock = lockDataDir(options.dataDir, options.purpose ?? 'plugboard');
  try {
    const pgdata = path.join(options.dataDir, 'pgdata');
    await ensureCluster(pgdata);
    const client = await PGlite.create(pgdata, PGLITE_OPTIONS);
    const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
    oneConnection.add(db);
    return {
      db,
      kind: 'pglite',
      listen: isolating(listenPGlite(client)),
      close: async () => {
        await db.destroy();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * A first start creates the cluster in a child process that exits afterwards: initdb's memory (about
 * 500 MB) would otherwise stay with the server for as long as it runs, since a WebAssembly memory
 * only grows. The data directory lock is already held, so no other Plugboard races this.
 */
async function ensureCluster(pgdata: string): Promise<void> {
  if (existsSync(path.join(pgdata, 'PG_VERSION'))) return;
  const script = fileURLToPath(new URL('./create-cluster.mjs', import.meta.url));
  await new Promise<void>((resolve, reject) => {
    const child = fork(script, [pgdata], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `Creating the embedded database in ${pgdata} failed (${signal ?? `exit code ${code}`}); see the messages above, fix the cause (disk space, permissions) and start again.`,
            ),
          ),
    );
  });
}

/**
 * A subscriber that throws must neither keep a notice from the others nor take the process down: PGlite
 * calls each one in a microtask of its own and pg inside its socket's data handler, where a throw is an
 * uncaught exception. Its failure is reported as a process warning (stderr unless handled).
 */
function isolating(listen: Listen): Listen {
  return (channel, onNotify, events) =>
    listen(
      channel,
      (payload) => {
        try {
          onNotify(payload);
        } catch (err) {
          process.emitWarning(
            `A subscriber of the "${channel}" channel failed on a notice: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
            'PlugboardListenWarning',
          );
        }
      },
      events,
    );
}

const listenPGlite = (client: PGlite) => async (channel: string, onNotify: (payload: string) => void) => {
  const unsubscribe = await client.listen(channel, onNotify);
  return async () => {
    await unsubscribe().catch(() => {});
  };
};

/** Applies pending migrations. Kysely takes an advisory lock, so concurrent starts are safe. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
