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
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CompiledQuery, type KyselyPlugin, type QueryId, type RootOperationNode, sql } from 'kysely';
import type { Db } from '../packages/server/src/db/database.ts';
import {
  type Backend as AnyBackend,
  basicAuth,
  describeDatabase,
  envNumber,
  fixed,
  listen,
  log,
  type Machine,
  type Measured,
  machineBefore,
  machineReport,
  machineSummary,
  measure,
  openBackend,
  QUIET_ENV,
  type Ready,
  round,
  roundMeasured,
  Servers,
  serveChild,
  startDeadline,
} from './support.ts';

type Backend = Extract<AnyBackend, 'pglite-memory' | 'postgres'>;

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

function envSizes(name: string, fallback: number[], max: number): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const sizes = raw.split(',').map((s) => Number(s.trim().replace(/_/g, '')));
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > max)) {
    throw new Error(`${name} must be a comma-separated list of integers from 1 to ${max} (got "${raw}").`);
  }
  return sizes;
}

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
  const { accountListQuery } = await import('../packages/server/src/schemas/accounts.ts');
  const { listAccounts } = await import('../packages/server/src/services/accounts.ts');
  const { createProject, findProjectByApiKey } = await import('../packages/server/src/services/tenancy.ts');

  let started = performance.now();
  const database = await openBackend(spec.backend);
  onCleanup(() => database.close());
  const { db } = database;
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

  const config = loadConfig(QUIET_ENV);
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

// ---------------------------------------------------------------------------------------------------
// The load generator: children, measuring, report.

/** The servers: bench/target.ts for the baseline, this file with `--serve` for the accounts. */
const servers = new Servers();

function measureQuery(options: { url: string; headers?: Record<string, string> }): Promise<Measured> {
  // timeout bounds a single request (20 queued behind one PGlite connection can take a while).
  return measure(
    { connections: CONNECTIONS, timeout: 20, ...options },
    { duration: WARMUP_SECONDS },
    SECONDS,
  );
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
  const target = await servers.startTarget({ kind: 'bare' }, 'bare Fastify');
  try {
    return { database: '-', ...(await measureQuery({ url: target.ready.url })) };
  } finally {
    await target.stop();
  }
}

async function runSize(backend: Backend, size: number, bareRps: number): Promise<void> {
  const label = `${backend}, ${size} accounts`;
  log(`${label}: seeding…`);
  const spec: ServeSpec = { backend, size };
  const started = performance.now();
  const target = await servers.start<AccountsReady>(
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
  const headers = { authorization: basicAuth(ready.apiKey) };
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
      const measured = await measureQuery({ url: `${ready.url}${query.path}`, headers });
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

function report(before: Machine, incomplete: boolean): void {
  const settings = {
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    connections: CONNECTIONS,
    sizes: SIZES,
    noiseAccounts: NOISE_ACCOUNTS,
  };
  if (process.argv.includes('--json')) {
    const out = {
      machine: machineReport(before),
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
  console.log(
    `\n${machineSummary(before)}` +
      `${SECONDS} s per query after ${WARMUP_SECONDS} s of warm-up, ${CONNECTIONS} connections; ` +
      `page_size ${PAGE_SIZE} unless given, ${NOISE_ACCOUNTS} accounts in a second project` +
      `${incomplete ? '; INCOMPLETE (the deadline stopped the run)' : ''}\n`,
  );
  console.log(markdownTables());
}

async function main(): Promise<void> {
  const before = machineBefore();
  let stopping = false;
  const cancelDeadline = startDeadline(
    DEADLINE_MS,
    'stopping and printing what finished.',
    () => {
      stopping = true;
      report(before, true);
      // SIGTERM lets each server drop its database before it exits; wait for that, within a grace period.
      return servers.terminate();
    },
    CLEANUP_GRACE_MS,
  );

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
  cancelDeadline();
  report(before, false);

  const failed = results.rows.filter((r) => r.non2xx > 0 || r.errors > 0);
  for (const r of failed) {
    console.warn(
      `WARNING: ${r.path} on ${r.database} at ${r.accounts}: ${r.non2xx} non-2xx, ${r.errors} errors/timeouts; status codes ${JSON.stringify(r.statusCodes)}`,
    );
  }
  for (const problem of results.problems) console.warn(`WARNING: ${problem}`);
  const cleanupFailed = servers.warnCleanupFailures();
  process.exitCode = failed.length || results.problems.length || cleanupFailed ? 1 : 0;
}

if (process.argv[2] === '--serve') {
  const spec = JSON.parse(process.argv[3] ?? '{}') as ServeSpec;
  await serveChild<AccountsReady>((onCleanup) => startAccounts(spec, onCleanup));
} else await main();
