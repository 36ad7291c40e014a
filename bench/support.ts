/**
 * What the benchmarks share: settings from the environment, fresh databases (PGlite or a throw-away
 * PostgreSQL database), servers in child processes, autocannon measurements, the machine report and the
 * run deadline.
 *
 * A plain module: importing it starts nothing. The server code (Fastify, the database layer with PGlite)
 * is imported only by the functions that need it, so a load-generating process does not load it.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import type { DatabaseHandle, Db, OpenOptions } from '../packages/server/src/db/database.ts';

// ---------------------------------------------------------------------------------------------------
// Settings and small helpers.

export function envNumber(name: string, fallback: number, min: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number from ${min} to ${max} (got "${process.env[name]}").`);
  }
  return value;
}

export const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const round = (n: number, digits: number) => Number(n.toFixed(digits));
export const fixed = (n: number | undefined, digits: number) =>
  n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-';

/** An explicit env for loadConfig, not process.env: LOG_LEVEL or REDIS_URL from the shell must not change the run. */
/**
 * Rate limits out of the way. Logs are off unless BENCH_LOG_LEVEL names a level (the servers' standard
 * output goes to the terminal then: redirect it, e.g. to /dev/null, to measure what logging costs).
 */
/** The server package's directory, where `npm start` runs `node dist/main.js serve`. */
export const SERVER_DIR = fileURLToPath(new URL('../packages/server/', import.meta.url));

/**
 * Which code of the server the benchmark targets load: dist/, compiled by tsc as `npm start` runs it
 * (buildServer), or with BENCH_SOURCES=1 src/ through tsx, whose esbuild helpers (`__name` on every
 * closure) show up on hot paths in profiles.
 */
const SERVER_CODE =
  process.env.BENCH_SOURCES === '1' ? { dir: 'src', ext: 'ts' } : { dir: 'dist', ext: 'js' };

/** A module of the server, e.g. serverModule<typeof import('../packages/server/src/app.ts')>('app'). */
export const serverModule = <T>(name: string): Promise<T> =>
  import(pathToFileURL(path.join(SERVER_DIR, SERVER_CODE.dir, `${name}.${SERVER_CODE.ext}`)).href);

/** Builds the server package as `npm start` does; `ifTargeted`: only when the targets load dist/. */
export function buildServer({ ifTargeted = false } = {}): void {
  if (ifTargeted && SERVER_CODE.dir !== 'dist') return;
  log('building the server package (what npm start runs)…');
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: SERVER_DIR, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the build failed');
}

export const QUIET_ENV = {
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
  PLUGBOARD_RATE_LIMIT_PER_MINUTE: '100000000',
};

/** What a typical integrator sends to POST /connect_sessions: owner, one category, a little metadata. */
export const CREATE_SESSION_BODY = JSON.stringify({
  origin_owner_id: 'customer-1',
  origin_owner_name: 'Acme',
  categories: ['hris'],
  metadata: { source: 'bench' },
});

/** StackOne's clients' way: HTTP Basic with the API key as username and an empty password. */
export const basicAuth = (apiKey: string) => `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`;

// ---------------------------------------------------------------------------------------------------
// Databases and servers.

export type Backend = 'pglite-memory' | 'pglite-disk' | 'postgres';

/** A fresh, migrated database of the requested kind; its close throws it away (drops it, removes its directory). */
export async function openBackend(backend: Backend): Promise<DatabaseHandle> {
  if (backend === 'postgres') return openPostgres();
  if (backend === 'pglite-memory') return openMigrated({ databaseUrl: undefined, dataDir: 'memory' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugboard-bench-'));
  return openMigrated({ databaseUrl: undefined, dataDir: dir }, () =>
    rm(dir, { recursive: true, force: true }),
  );
}

/**
 * A new, empty database on DATABASE_URL's server: its URL, and `drop`, which throws it away. The drop waits
 * for the database's connections to be gone instead of forcing them: pg's pool.end() resolves before its
 * sockets close, and a forced drop then kills them mid-close, which surfaces as an unhandled 'error' event
 * on the pool and crashes the process. Only if some are still there after 10 s (a deadline hit mid-query,
 * a server that was killed) does it force them.
 */
export async function throwawayPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is needed for the postgres backend');
  const name = `plugboard_bench_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`create database ${name}`));
  const drop = () =>
    withAdmin(adminUrl, async (client) => {
      let left = 1;
      for (let i = 0; i < 100 && left > 0; i++) {
        const { rows } = await client.query<{ n: number }>(
          'select count(*)::int as n from pg_stat_activity where datname = $1',
          [name],
        );
        left = rows[0]?.n ?? 0;
        if (left > 0) await sleep(100);
      }
      await client.query(`drop database if exists ${name}${left > 0 ? ' with (force)' : ''}`);
    });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop };
}

/** A new database on DATABASE_URL's server (like the tests' createTestDatabase), dropped on close. */
async function openPostgres(): Promise<DatabaseHandle> {
  const { url, drop } = await throwawayPostgres();
  return openMigrated({ databaseUrl: url, dataDir: 'memory' }, drop);
}

/** Opens and migrates a database; `dispose` runs after its close, and also when opening or migrating fails. */
async function openMigrated(
  options: OpenOptions,
  dispose: () => Promise<void> = async () => {},
): Promise<DatabaseHandle> {
  const { migrateToLatest, openDatabase } = await import('../packages/server/src/db/database.ts');
  let handle: DatabaseHandle | undefined;
  try {
    handle = await openDatabase(options);
    await migrateToLatest(handle.db);
  } catch (err) {
    try {
      await handle?.close();
    } finally {
      await dispose();
    }
    throw err;
  }
  const opened = handle;
  return {
    ...opened,
    close: async () => {
      try {
        await opened.close();
      } finally {
        await dispose();
      }
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

/** What the database says it is, for the report. */
export async function describeDatabase(db: Db, backend: Backend): Promise<string> {
  const { rows } = await sql<{ server_version: string }>`show server_version`.execute(db);
  const version = rows[0]?.server_version ?? '?';
  if (backend === 'postgres') return `PostgreSQL ${version}`;
  return `PGlite (PostgreSQL ${version}), ${backend === 'pglite-memory' ? 'in memory' : 'on disk'}`;
}

/** Listens on 127.0.0.1 only, on a free port the OS picks; resolves to the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the server has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** The baseline: a bare Fastify JSON route (GET /), what Fastify alone costs per request on this machine. */
export async function startBareFastify(): Promise<{ url: string; close: () => Promise<void> }> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ ok: true }));
  try {
    return { url: await listen(app), close: () => app.close() };
  } catch (err) {
    await app.close();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// Servers in child processes: one per target, so each gets its own event loop, heap and garbage
// collector (the load generator does not steal its time) and a fresh database.
//
// Protocol over the fork IPC channel: the child answers `{ ready }` or `{ error }`, serves until the
// parent sends 'close' or goes away, then cleans up (closes the app, drops the PostgreSQL database,
// removes the PGlite directory) and exits, with code 1 if the clean-up failed.

export type ServerMessage<R> = { ready: R } | { error: string };

/** What bench/target.ts serves: a bare Fastify baseline, or Plugboard with a pool of session tokens. */
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

export interface Server<R> {
  ready: R;
  /** The child process, for what a benchmark reads of it (its RSS in /proc, its own IPC questions). */
  child: ChildProcess;
  /** Asks the child to clean up and waits until it has exited. */
  stop: () => Promise<void>;
}

const TARGET_FILE = fileURLToPath(new URL('./target.ts', import.meta.url));

/** The parent side: starts servers, stops them, and keeps what the deadline and the report need. */
export class Servers {
  private readonly running = new Set<ChildProcess>();
  /** Servers that failed to clean up (a database or directory may be left over). */
  readonly cleanupFailures: string[] = [];

  /** Forks `file` with `args`; `label` names the server in messages. */
  start<R>(file: string, args: string[], label: string): Promise<Server<R>> {
    // fork() reuses this process's execArgv, so `--import tsx` applies to the child as well.
    const child = fork(file, args, { stdio: 'inherit' });
    this.running.add(child);
    child.once('exit', () => this.running.delete(child));
    return new Promise((resolve, reject) => {
      child.once('message', (message: ServerMessage<R>) => {
        if ('ready' in message) resolve({ ready: message.ready, child, stop: () => this.stop(child, label) });
        else reject(new Error(`the ${label} server did not start:\n${message.error}`));
      });
      child.once('exit', (code) => reject(new Error(`the ${label} server exited early (code ${code})`)));
    });
  }

  /** bench/target.ts serving `spec`. */
  startTarget(spec: TargetSpec, label: string): Promise<Server<Ready>> {
    return this.start<Ready>(TARGET_FILE, [JSON.stringify(spec)], label);
  }

  private stop(child: ChildProcess, label: string): Promise<void> {
    return new Promise((resolve) => {
      const exited = (code: number | null) => {
        if (code !== 0) this.cleanupFailures.push(`${label} (exit code ${code})`);
        resolve();
      };
      if (child.exitCode !== null) return exited(child.exitCode);
      child.once('exit', exited);
      child.send('close');
    });
  }

  /** SIGTERM to every running server, which lets each clean up; resolves once all have exited. */
  terminate(): Promise<void> {
    const exits = [...this.running].map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of this.running) child.kill('SIGTERM');
    return Promise.all(exits).then(() => {});
  }

  /** One warning per server that did not clean up; whether there was any. */
  warnCleanupFailures(): boolean {
    for (const label of this.cleanupFailures)
      console.warn(`WARNING: the ${label} server did not clean up properly.`);
    return this.cleanupFailures.length > 0;
  }
}

/**
 * The child side: runs `start` (which registers a clean-up step for everything it opens), sends
 * `{ ready }` or `{ error }`, and on 'close', a lost parent or SIGTERM runs the clean-up steps newest
 * first (the app before its database, the database before dropping it) and exits.
 */
export async function serveChild<R>(
  start: (onCleanup: (close: () => Promise<void>) => void) => Promise<R>,
): Promise<void> {
  const send = (message: ServerMessage<R>) => process.send?.(message);
  const cleanups: Array<() => Promise<void>> = [];
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    let failed = false;
    for (const close of cleanups.reverse()) {
      await close().catch((err) => {
        failed = true;
        console.error('bench server: clean-up failed (a database or directory may be left over):', err);
      });
    }
    process.exit(failed ? 1 : code);
  };
  process.on('message', (message) => message === 'close' && void shutdown(0));
  // The parent died or hit its deadline: still drop the database and remove the directory.
  process.on('disconnect', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  try {
    const ready = await start((close) => cleanups.push(close));
    if (!closing) send({ ready });
  } catch (err) {
    if (!closing) send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    await shutdown(1);
  }
}

// ---------------------------------------------------------------------------------------------------
// Measuring.

export interface Measured {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** Connection errors and timeouts: requests that got no HTTP answer at all. */
  errors: number;
  /** Status code → count, kept to explain any non-2xx. */
  statusCodes: Record<string, number>;
}

/** autocannon with a per-response hook; its own histogram rounds to whole milliseconds. */
export function fire(
  options: autocannon.Options,
  onResponse?: (ms: number) => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
    if (onResponse) instance.on('response', (_client, _status, _bytes, ms) => onResponse(ms));
  });
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * A discarded warm-up (`warmup`: an `amount` of requests or a `duration`, so JIT compilation and
 * connection set-up do not count), then `seconds` of load with every response's latency recorded.
 */
export async function measure(
  options: autocannon.Options,
  warmup: { amount: number } | { duration: number },
  seconds: number,
): Promise<Measured> {
  await fire({ ...options, ...warmup });
  const latencies: number[] = [];
  const started = performance.now();
  const result = await fire({ ...options, duration: seconds }, (ms) => latencies.push(ms));
  const elapsed = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: result.requests.total,
    // autocannon's own rate is an average of whole-second buckets: too coarse for runs of a few seconds.
    rps: result.requests.total / elapsed,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
    ),
  };
}

/** Measured figures rounded for the JSON report. */
export const roundMeasured = <T extends Measured>(m: T): T => ({
  ...m,
  rps: round(m.rps, 1),
  p50: round(m.p50, 3),
  p99: round(m.p99, 3),
});

/** A process's resident memory in bytes (VmRSS of /proc/<pid>/status). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

/** utime + stime of the process, in milliseconds: what other work on the machine distorts least. */
export async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

// ---------------------------------------------------------------------------------------------------
// The machine, the report and the deadline.

export type Machine = ReturnType<typeof machine>;

export function machine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpus: cpus.length,
    cpu: cpus[0]?.model ?? '?',
    platform: os.platform(),
    // Other work on the machine skews every figure, the ratios too; the load average makes that visible.
    loadAverage: os.loadavg().map((n) => round(n, 2)),
  };
}

/** The machine before the run, with a warning if it is already busy. */
export function machineBefore(): Machine {
  const before = machine();
  if ((before.loadAverage[0] ?? 0) > before.cpus / 2) {
    console.warn(
      `WARNING: the machine is busy (load average ${before.loadAverage[0]} on ${before.cpus} CPUs); figures will be low and noisy.`,
    );
  }
  return before;
}

/** For the JSON report: the machine now, and its load average before the run. */
export const machineReport = (before: Machine) => ({ ...machine(), loadAverageBefore: before.loadAverage });

/** The first words of the text report: CPUs, Node, and the load average before and after the run. */
export function machineSummary(before: Machine): string {
  const m = machine();
  return `${m.cpus} × ${m.cpu}, Node ${m.node}, load average ${before.loadAverage[0]} before and ${m.loadAverage[0]} after; `;
}

/**
 * Past `ms`, says so on stderr (`bench: still running after … s; ${what}`), runs `stop` and exits with
 * code 2 once it has finished, or after `graceMs` whatever happens. The timer does not keep the process
 * alive; the returned function cancels it.
 */
export function startDeadline(ms: number, what: string, stop: () => unknown, graceMs: number): () => void {
  const timer = setTimeout(() => {
    console.error(`bench: still running after ${ms / 1000} s; ${what}`);
    setTimeout(() => process.exit(2), graceMs);
    void Promise.resolve()
      .then(stop)
      .finally(() => process.exit(2));
  }, ms);
  timer.unref();
  return () => clearTimeout(timer);
}
