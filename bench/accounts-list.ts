/**
 * How GET /accounts latency grows with the number of linked accounts: `npm run bench:accounts`
 * (`-- --json` for machine-readable output).
 *
 * For each backend (PGlite in memory always; PostgreSQL when DATABASE_URL is set, in a fresh database
 * dropped afterwards) and each size N (BENCH_ACCOUNT_SIZES, default 1000,10000,100000, at most 200 000)
 * a child process (this file with `--serve`) opens a fresh database, seeds N accounts into one project
 * with one set-based INSERT … SELECT FROM generate_series (plus a few hundred in a second project, as
 * tenant noise), runs ANALYZE and EXPLAIN ANALYZE of the exact SQL the route runs, then serves the API on
 * 127.0.0.1. This process measures four list queries with autocannon (a short warm-up, then BENCH_SECONDS
 * each) and reports them as a ratio to a bare Fastify JSON route (bench/target.ts) measured in the same
 * run. Bounded: a whole-run deadline stops everything and prints what had finished.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { FastifyInstance } from 'fastify';
import { CompiledQuery, type KyselyPlugin, type QueryId, type RootOperationNode, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseHandle, Db } from '../packages/server/src/db/database.ts';
// Types only: importing values from target.ts would start a server in this process.
import type { Ready, Backend as TargetBackend, TargetSpec } from './target.ts';

type Backend = Extract<TargetBackend, 'pglite-memory' | 'postgres'>;

const SECONDS = envNumber('BENCH_SECONDS', 3, 1, 10);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 20, 1, 200);
const SIZES = envSizes('BENCH_ACCOUNT_SIZES', [1_000, 10_000, 100_000], 200_000);
/** Warm-up before each measurement (JIT, connections, caches). Time-bounded: deep pages can be slow. */
const WARMUP_SECONDS = 1;
/** Accounts in a second project, sharing owner ids and providers with the measured one. */
const NOISE_ACCOUNTS = 300;
const PAGE_SIZE = 25;
const PROVIDERS = ['bamboohr', 'hubspot', 'attio'];
/** Everything stops by then, whatever is still seeding or measuring; what finished is printed. */
const DEADLINE_MS = envNumber('BENCH_DEADLINE_SECONDS', 480, 10, 1800) * 1000;
/** After the deadline, the servers get this long to drop their databases before this process exits. */
const CLEANUP_GRACE_MS = 20_000;

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number from ${min} to ${max} (got "${process.env[name]}").`);
  }
  return value;
}

function envSizes(name: string, fallback: number[], max: number): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const sizes = raw.split(',').map((s) => Number(s.trim().replace(/_/g, '')));
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > max)) {
    throw new Error(`${name} must be a comma-separated list of integers from 1 to ${max} (got "${raw}").`);
  }
  return sizes;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ownerCount = (size: number) => Math.max(1, Math.floor(size / 10));

// ---------------------------------------------------------------------------------------------------
// The queries: the same for both processes (the server EXPLAINs them, this process loads them).

interface Query {
  name: string;
  path: string;
  /** Rows the response must hold, from the seeding formulas below. */
  expectedRows: number;
}

function queries(size: number): Query[] {
  const owners = ownerCount(size);
  const owner = Math.floor(owners / 2);
  const lastFullPage = Math.max(1, Math.floor(size / PAGE_SIZE));
  let ownerRows = 0;
  let hubspotActive = 0;
  for (let i = 1; i <= size; i++) {
    if (i % owners === owner) ownerRows++;
    if (PROVIDERS[i % PROVIDERS.length] === 'hubspot' && i % 10 !== 0) hubspotActive++;
  }
  return [
    { name: 'first page', path: '/accounts', expectedRows: Math.min(PAGE_SIZE, size) },
    {
      name: 'last page (offset)',
      path: `/accounts?page=${lastFullPage}&page_size=${PAGE_SIZE}`,
      expectedRows: Math.min(PAGE_SIZE, size - (lastFullPage - 1) * PAGE_SIZE),
    },
    { name: 'one owner', path: `/accounts?origin_owner_id=owner-${owner}`, expectedRows: ownerRows },
    {
      name: 'provider + status',
      path: '/accounts?provider=hubspot&status=active&page_size=100',
      expectedRows: Math.min(100, hubspotActive),
    },
  ];
}

// ---------------------------------------------------------------------------------------------------
// The server side (`--serve <spec>`): a fresh database, seeded, analysed, explained, then served.

interface ServeSpec {
  backend: Backend;
  size: number;
}

interface SeedTimes {
  /** Migrations, vault and the two projects. */
  setupMs: number;
  /** The N-row INSERT … SELECT (the noise project's insert is not counted). */
  insertMs: number;
  analyzeMs: number;
}

interface Explained {
  /** One line: the plan's nodes top-down, with actual rows. */
  summary: string;
  executionMs: number;
  planningMs: number;
}

interface AccountsReady extends Ready {
  apiKey: string;
  database: string;
  seed: SeedTimes;
  /** By query path. */
  explain: Record<string, Explained>;
}

type ServeMessage = { ready: AccountsReady } | { error: string };

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the server has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/**
 * A new database on DATABASE_URL's server, dropped on close. Copied from bench/target.ts (not exported,
 * and importing it would start its server): the drop waits for the pool's connections to be gone; if some
 * are still there after 10 s (a deadline hit mid-query), it forces them.
 */
async function openPostgres(): Promise<DatabaseHandle> {
  const { openDatabase } = await import('../packages/server/src/db/database.ts');
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
  let handle: DatabaseHandle;
  try {
    handle = await openDatabase({ databaseUrl: url.toString(), dataDir: 'memory' });
  } catch (err) {
    await drop();
    throw err;
  }
  return {
    ...handle,
    close: async () => {
      try {
        await handle.close();
      } finally {
        await drop();
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

async function describeDatabase(db: Db, backend: Backend): Promise<string> {
  const { rows } = await sql<{ server_version: string }>`show server_version`.execute(db);
  const version = rows[0]?.server_version ?? '?';
  return backend === 'postgres' ? `PostgreSQL ${version}` : `PGlite (PostgreSQL ${version}), in memory`;
}

/**
 * `count` accounts in one project, in one statement: distinct created_at one second apart (oldest
 * first), owners `owner-(i mod owners)`, providers round-robin, every tenth account inactive.
 */
async function seedAccounts(
  db: Db,
  project: { organization_id: number; project_id: string },
  count: number,
  owners: number,
  spanSeconds: number,
): Promise<void> {
  const step = spanSeconds / count;
  await sql`
    insert into linked_accounts
      (id, organization_id, project_id, provider, origin_owner_id, origin_owner_name, label, status,
       metadata, created_at, updated_at)
    select
      'acc_' || md5(${project.project_id}::text || ':' || i),
      ${project.organization_id}::bigint,
      ${project.project_id}::text,
      (${PROVIDERS}::text[])[1 + i % ${PROVIDERS.length}::int],
      'owner-' || (i % ${owners}::int),
      'Customer ' || (i % ${owners}::int),
      'Account ' || i,
      case when i % 10 = 0 then 'inactive' else 'active' end,
      jsonb_build_object('seq', i),
      t.at,
      t.at
    from generate_series(1, ${count}::int) as i,
      lateral (select now() - make_interval(secs => ${spanSeconds}::int - i * ${step}::float8) as at) as t
  `.execute(db);
}

/** Captures the first query a Kysely instance runs, so the exact SQL of listAccounts can be EXPLAINed. */
class CaptureFirstQuery implements KyselyPlugin {
  captured?: { node: RootOperationNode; queryId: QueryId };
  transformQuery(args: { node: RootOperationNode; queryId: QueryId }): RootOperationNode {
    this.captured ??= { node: args.node, queryId: args.queryId };
    return args.node;
  }
  async transformResult<T>(args: { result: T }): Promise<T> {
    return args.result;
  }
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Sort Method'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function summarisePlan(node: PlanNode): string {
  const parts: string[] = [];
  const walk = (n: PlanNode) => {
    let text = n['Node Type'];
    if (n['Index Name']) text += ` using ${n['Index Name']}`;
    else if (n['Relation Name']) text += ` on ${n['Relation Name']}`;
    const details = [`rows ${n['Actual Rows'] ?? '?'}`];
    if (n['Rows Removed by Filter']) details.push(`${n['Rows Removed by Filter']} removed by filter`);
    if (n['Sort Method']) details.push(n['Sort Method']);
    const blocks = (n['Shared Hit Blocks'] ?? 0) + (n['Shared Read Blocks'] ?? 0);
    if (blocks) details.push(`${blocks} buffers`);
    parts.push(`${text} (${details.join(', ')})`);
    for (const child of n.Plans ?? []) walk(child);
  };
  walk(node);
  return parts.join(' → ');
}

async function startAccounts(
  spec: ServeSpec,
  onCleanup: (close: () => Promise<void>) => void,
): Promise<AccountsReady> {
  // Loaded here, not at the top: the load-generating process needs none of it.
  const { buildApp } = await import('../packages/server/src/app.ts');
  const { loadConfig } = await import('../packages/server/src/config.ts');
  const { loadCatalogue } = await import('../packages/server/src/connectors/catalogue.ts');
  const { openVault } = await import('../packages/server/src/crypto/vault.ts');
  const { migrateToLatest, openDatabase } = await import('../packages/server/src/db/database.ts');
  const { accountListQuery } = await import('../packages/server/src/schemas/accounts.ts');
  const { listAccounts } = await import('../packages/server/src/services/accounts.ts');
  const { createProject, findProjectByApiKey } = await import('../packages/server/src/services/tenancy.ts');

  let started = performance.now();
  const database =
    spec.backend === 'postgres'
      ? await openPostgres()
      : await openDatabase({ databaseUrl: undefined, dataDir: 'memory' });
  onCleanup(() => database.close());
  const { db } = database;
  await migrateToLatest(db);
  const vault = await openVault(db, randomBytes(32));
  const catalogue = loadCatalogue();
  const main = await createProject(db, { name: 'bench' });
  const noise = await createProject(db, { name: 'bench noise' });
  const setupMs = performance.now() - started;

  // A year of history for the measured project; the noise accounts interleave with it.
  const span = 365 * 24 * 3600;
  started = performance.now();
  await seedAccounts(db, main, spec.size, ownerCount(spec.size), span);
  const insertMs = performance.now() - started;
  await seedAccounts(db, noise, NOISE_ACCOUNTS, Math.min(ownerCount(spec.size), NOISE_ACCOUNTS), span);
  started = performance.now();
  await sql`analyze`.execute(db);
  const analyzeMs = performance.now() - started;

  const project = await findProjectByApiKey(db, main.api_key);
  if (!project) throw new Error('the bench project does not resolve from its API key');
  const explain: Record<string, Explained> = {};
  for (const query of queries(spec.size)) {
    const params: Record<string, string | string[]> = {};
    for (const [key, value] of new URL(query.path, 'http://x').searchParams) {
      const previous = params[key];
      params[key] = previous === undefined ? value : [previous, value].flat();
    }
    const capture = new CaptureFirstQuery();
    await listAccounts(
      { db: db.withPlugin(capture), vault, catalogue },
      project,
      accountListQuery.parse(params),
    );
    if (!capture.captured) throw new Error(`listAccounts ran no query for ${query.path}`);
    const compiled = db.getExecutor().compileQuery(capture.captured.node, capture.captured.queryId);
    const result = await db.executeQuery<{ 'QUERY PLAN': unknown }>(
      CompiledQuery.raw(`explain (analyze, buffers, format json) ${compiled.sql}`, [...compiled.parameters]),
    );
    const raw = result.rows[0]?.['QUERY PLAN'];
    const [plan] = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{
      Plan: PlanNode;
      'Planning Time': number;
      'Execution Time': number;
    }>;
    if (!plan) throw new Error(`EXPLAIN returned nothing for ${query.path}`);
    explain[query.path] = {
      summary: summarisePlan(plan.Plan),
      executionMs: plan['Execution Time'],
      planningMs: plan['Planning Time'],
    };
  }

  // An explicit env, not process.env: LOG_LEVEL or REDIS_URL from the shell must not change the run.
  const config = loadConfig({ LOG_LEVEL: 'silent', PLUGBOARD_RATE_LIMIT_PER_MINUTE: '100000000' });
  const app = await buildApp({ config, db, vault, catalogue });
  onCleanup(() => app.close());
  return {
    url: await listen(app),
    apiKey: main.api_key,
    database: await describeDatabase(db, spec.backend),
    seed: { setupMs, insertMs, analyzeMs },
    explain,
  };
}

/** Same protocol as bench/target.ts: `{ ready }` or `{ error }`, then serve until 'close'. */
async function serve(spec: ServeSpec): Promise<void> {
  const send = (message: ServeMessage) => process.send?.(message);
  const cleanups: Array<() => Promise<void>> = [];
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    let failed = false;
    // Newest first: the app before its database, the database before dropping it.
    for (const close of cleanups.reverse()) {
      await close().catch((err) => {
        failed = true;
        console.error('bench server: clean-up failed (a database may be left over):', err);
      });
    }
    process.exit(failed ? 1 : code);
  };
  process.on('message', (message) => message === 'close' && void shutdown(0));
  // The parent died or hit its deadline: still drop the database.
  process.on('disconnect', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  try {
    const ready = await startAccounts(spec, (close) => cleanups.push(close));
    if (!closing) send({ ready });
  } catch (err) {
    if (!closing) send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    await shutdown(1);
  }
}

// ---------------------------------------------------------------------------------------------------
// The load generator: children, measuring, report.

const children = new Set<ChildProcess>();
/** Servers that failed to clean up (a database may be left over); reported at the end. */
const cleanupFailures: string[] = [];

interface Child<R> {
  ready: R;
  stop: () => Promise<void>;
}

function startChild<R>(file: string, args: string[], label: string): Promise<Child<R>> {
  // fork() reuses this process's execArgv, so `--import tsx` applies to the child as well.
  const child = fork(file, args, { stdio: 'inherit' });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.once('message', (message: { ready: R } | { error: string }) => {
      if ('ready' in message) resolve({ ready: message.ready, stop: () => stopChild(child, label) });
      else reject(new Error(`the ${label} server did not start:\n${message.error}`));
    });
    child.once('exit', (code) => reject(new Error(`the ${label} server exited early (code ${code})`)));
  });
}

/** Asks the child to clean up (drop its database) and waits until it has. */
function stopChild(child: ChildProcess, label: string): Promise<void> {
  return new Promise((resolve) => {
    const exited = (code: number | null) => {
      if (code !== 0) cleanupFailures.push(`${label} (exit code ${code})`);
      resolve();
    };
    if (child.exitCode !== null) return exited(child.exitCode);
    child.once('exit', exited);
    child.send('close');
  });
}

interface Measured {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** Connection errors and timeouts: requests that got no HTTP answer at all. */
  errors: number;
  statusCodes: Record<string, number>;
}

/** autocannon with a per-response hook; its own histogram rounds to whole milliseconds. */
function fire(options: autocannon.Options, onResponse?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
    if (onResponse) instance.on('response', (_client, _status, _bytes, ms) => onResponse(ms));
  });
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function measure(options: autocannon.Options): Promise<Measured> {
  // timeout bounds a single request (20 queued behind one PGlite connection can take a while).
  const base = { connections: CONNECTIONS, timeout: 20, ...options };
  await fire({ ...base, duration: WARMUP_SECONDS });
  const latencies: number[] = [];
  const started = performance.now();
  const result = await fire({ ...base, duration: SECONDS }, (ms) => latencies.push(ms));
  const seconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: result.requests.total,
    // autocannon's own rate is an average of whole-second buckets: too coarse for runs of a few seconds.
    rps: result.requests.total / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
    ),
  };
}

interface Row extends Measured {
  backend: Backend;
  database: string;
  accounts: number;
  query: string;
  path: string;
  rows: number;
  expectedRows: number;
  ratio: number;
  explain?: Explained;
}

interface Seeded {
  backend: Backend;
  database: string;
  accounts: number;
  seed: SeedTimes;
}

interface Bare extends Measured {
  database: string;
}

/** Filled as the run goes, so the deadline can still print what finished. */
const results: { bare?: Bare; seeded: Seeded[]; rows: Row[]; problems: string[] } = {
  seeded: [],
  rows: [],
  problems: [],
};

async function runBare(): Promise<Bare> {
  log(`bare Fastify GET / (${SECONDS} s)`);
  const spec: TargetSpec = { kind: 'bare' };
  const target = await startChild<Ready>(
    fileURLToPath(new URL('./target.ts', import.meta.url)),
    [JSON.stringify(spec)],
    'bare Fastify',
  );
  try {
    return { database: '-', ...(await measure({ url: target.ready.url })) };
  } finally {
    await target.stop();
  }
}

async function runSize(backend: Backend, size: number, bareRps: number): Promise<void> {
  const label = `${backend}, ${size} accounts`;
  log(`${label}: seeding…`);
  const spec: ServeSpec = { backend, size };
  const started = performance.now();
  const target = await startChild<AccountsReady>(
    fileURLToPath(import.meta.url),
    ['--serve', JSON.stringify(spec)],
    label,
  );
  const { ready } = target;
  log(
    `${label}: ready in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(insert ${(ready.seed.insertMs / 1000).toFixed(2)} s, analyze ${(ready.seed.analyzeMs / 1000).toFixed(2)} s)`,
  );
  results.seeded.push({ backend, database: ready.database, accounts: size, seed: ready.seed });
  const headers = { authorization: `Basic ${Buffer.from(`${ready.apiKey}:`).toString('base64')}` };
  try {
    for (const query of queries(size)) {
      // One request first: the answer must be a 200 with exactly the rows the seed implies (no noise).
      const res = await fetch(`${ready.url}${query.path}`, { headers });
      const body = await res.text();
      const rows = res.ok ? (JSON.parse(body) as unknown[]).length : -1;
      if (rows !== query.expectedRows) {
        results.problems.push(
          `${label} ${query.path}: ${res.status}, ${rows} rows instead of ${query.expectedRows}${res.ok ? '' : `: ${body.slice(0, 300)}`}`,
        );
      }
      log(`${label}:   ${query.path} (${SECONDS} s)`);
      const measured = await measure({ url: `${ready.url}${query.path}`, headers });
      results.rows.push({
        backend,
        database: ready.database,
        accounts: size,
        query: query.name,
        path: query.path,
        rows,
        expectedRows: query.expectedRows,
        ratio: measured.rps / bareRps,
        explain: ready.explain[query.path],
        ...measured,
      });
    }
  } finally {
    await target.stop();
  }
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));
const fixed = (n: number | undefined, digits: number) =>
  n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-';

function markdownTables(): string {
  const { bare, rows, seeded } = results;
  const lines = [
    '| backend | accounts | query | rows | req/s | × bare | p50 ms | p99 ms | db ms | non-2xx | errors |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  if (bare) {
    lines.push(
      `| bare Fastify GET / (baseline) | - | - | - | ${fixed(bare.rps, 0)} | 1.000 | ${fixed(bare.p50, 2)} | ${fixed(bare.p99, 2)} | - | ${bare.non2xx} | ${bare.errors} |`,
    );
  }
  for (const r of rows) {
    lines.push(
      `| ${r.database} | ${r.accounts} | ${r.query} | ${r.rows} | ${fixed(r.rps, 0)} | ${fixed(r.ratio, 3)} | ${fixed(r.p50, 2)} | ${fixed(r.p99, 2)} | ${fixed(r.explain?.executionMs, 2)} | ${r.non2xx} | ${r.errors} |`,
    );
  }
  lines.push(
    '',
    '| backend | accounts | setup s (migrations, vault, projects) | INSERT … SELECT s | ANALYZE s |',
    '|---|---:|---:|---:|---:|',
  );
  for (const s of seeded) {
    lines.push(
      `| ${s.database} | ${s.accounts} | ${fixed(s.seed.setupMs / 1000, 2)} | ${fixed(s.seed.insertMs / 1000, 2)} | ${fixed(s.seed.analyzeMs / 1000, 2)} |`,
    );
  }
  // The plans at the largest size of each backend.
  const largest = new Map<string, number>();
  for (const r of rows) largest.set(r.database, Math.max(largest.get(r.database) ?? 0, r.accounts));
  for (const [database, accounts] of largest) {
    lines.push(
      '',
      `Plans on ${database} at ${accounts} accounts (EXPLAIN ANALYZE, one run before the load):`,
    );
    for (const r of rows.filter((row) => row.database === database && row.accounts === accounts)) {
      lines.push(
        `- ${r.query} \`${r.path}\`: ${r.explain?.summary ?? '?'}; ${fixed(r.explain?.executionMs, 2)} ms`,
      );
    }
  }
  return lines.join('\n');
}

function machine() {
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

function report(before: ReturnType<typeof machine>, incomplete: boolean): void {
  const settings = {
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    connections: CONNECTIONS,
    sizes: SIZES,
    noiseAccounts: NOISE_ACCOUNTS,
  };
  if (process.argv.includes('--json')) {
    const roundMeasured = <T extends Measured>(m: T) => ({
      ...m,
      rps: round(m.rps, 1),
      p50: round(m.p50, 3),
      p99: round(m.p99, 3),
    });
    const out = {
      machine: { ...machine(), loadAverageBefore: before.loadAverage },
      settings,
      incomplete,
      bare: results.bare && roundMeasured(results.bare),
      seeded: results.seeded.map((s) => ({
        ...s,
        seed: {
          setupMs: round(s.seed.setupMs, 1),
          insertMs: round(s.seed.insertMs, 1),
          analyzeMs: round(s.seed.analyzeMs, 1),
        },
      })),
      rows: results.rows.map((r) => ({ ...roundMeasured(r), ratio: round(r.ratio, 4) })),
      problems: results.problems,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const m = machine();
  console.log(
    `\n${m.cpus} × ${m.cpu}, Node ${m.node}, load average ${before.loadAverage[0]} before and ${m.loadAverage[0]} after; ` +
      `${SECONDS} s per query after ${WARMUP_SECONDS} s of warm-up, ${CONNECTIONS} connections; ` +
      `page_size ${PAGE_SIZE} unless given, ${NOISE_ACCOUNTS} accounts in a second project` +
      `${incomplete ? '; INCOMPLETE (the deadline stopped the run)' : ''}\n`,
  );
  console.log(markdownTables());
}

async function main(): Promise<void> {
  const before = machine();
  if ((before.loadAverage[0] ?? 0) > before.cpus / 2) {
    console.warn(
      `WARNING: the machine is busy (load average ${before.loadAverage[0]} on ${before.cpus} CPUs); figures will be low and noisy.`,
    );
  }
  let stopping = false;
  const deadline = setTimeout(() => {
    stopping = true;
    console.error(`bench: still running after ${DEADLINE_MS / 1000} s; stopping and printing what finished.`);
    report(before, true);
    // SIGTERM lets each server drop its database before it exits; wait for that, within a grace period.
    for (const child of children) child.kill('SIGTERM');
    const giveUp = setTimeout(() => process.exit(2), CLEANUP_GRACE_MS);
    const poll = setInterval(() => {
      if (children.size > 0) return;
      clearInterval(poll);
      clearTimeout(giveUp);
      process.exit(2);
    }, 100);
  }, DEADLINE_MS);
  deadline.unref();

  const backends: Backend[] = ['pglite-memory'];
  if (process.env.DATABASE_URL) backends.push('postgres');

  try {
    results.bare = await runBare();
    for (const backend of backends) {
      for (const size of SIZES) await runSize(backend, size, results.bare.rps);
    }
  } catch (err) {
    // Past the deadline the servers are being stopped, so the run fails where it was: the deadline
    // handler has printed what finished and exits once the servers have cleaned up.
    if (stopping) return;
    throw err;
  }
  clearTimeout(deadline);
  report(before, false);

  const failed = results.rows.filter((r) => r.non2xx > 0 || r.errors > 0);
  for (const r of failed) {
    console.warn(
      `WARNING: ${r.path} on ${r.database} at ${r.accounts}: ${r.non2xx} non-2xx, ${r.errors} errors/timeouts; status codes ${JSON.stringify(r.statusCodes)}`,
    );
  }
  for (const problem of results.problems) console.warn(`WARNING: ${problem}`);
  for (const label of cleanupFailures)
    console.warn(`WARNING: the ${label} server did not clean up properly.`);
  process.exitCode = failed.length || results.problems.length || cleanupFailures.length ? 1 : 0;
}

if (process.argv[2] === '--serve') await serve(JSON.parse(process.argv[3] ?? '{}') as ServeSpec);
else await main();
