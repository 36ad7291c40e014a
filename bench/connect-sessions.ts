/**
 * Load benchmark for the connect sessions API: `npm run bench` (`-- --json` for machine-readable output).
 *
 * Loopback only and bounded: every scenario is a fixed warm-up `amount` followed by a fixed `duration`
 * (BENCH_SECONDS, default 3), and a deadline stops the whole run if anything hangs.
 *
 * Each scenario's throughput is reported as a ratio to a bare Fastify JSON route measured in the same
 * run, so figures from different machines stay comparable. Plugboard runs on PGlite in memory and on
 * disk always, and on PostgreSQL when DATABASE_URL is set (in a fresh database, dropped afterwards).
 *
 * The servers run in child processes (bench/target.ts); this process only generates load and measures.
 */
import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
// Types only: importing values from target.ts would start a server in this process.
import type { Backend, Ready, TargetMessage, TargetSpec } from './target.ts';

const SECONDS = envNumber('BENCH_SECONDS', 3, 1, 10);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 20, 1, 200);
/** Discarded requests before each measurement, so JIT compilation and connection set-up do not count. */
const WARMUP_REQUESTS = 500;
/** Sessions created before the authenticate scenario; each request takes the next token in turn. */
const TOKEN_POOL = 1000;
/** Well under the 3 minutes the run may take; past it, everything is stopped. */
const DEADLINE_MS = 150_000;

/** What a typical integrator sends: owner, one category, a little metadata. */
const CREATE_BODY = JSON.stringify({
  origin_owner_id: 'customer-1',
  origin_owner_name: 'Acme',
  categories: ['hris'],
  metadata: { source: 'bench' },
});

interface Measured {
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

interface Row extends Measured {
  scenario: string;
  database: string;
  ratio: number;
}

interface Scenario {
  name: string;
  options: (ready: Ready) => autocannon.Options;
}

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number from ${min} to ${max} (got "${process.env[name]}").`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Targets: one child process per server, so each gets a fresh heap and a fresh database.

const children = new Set<ChildProcess>();

interface Target {
  ready: Ready;
  stop: () => Promise<void>;
}

function startTarget(spec: TargetSpec, label: string): Promise<Target> {
  // fork() reuses this process's execArgv, so `--import tsx` applies to the child as well.
  const child = fork(fileURLToPath(new URL('./target.ts', import.meta.url)), [JSON.stringify(spec)], {
    stdio: 'inherit',
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.once('message', (message: TargetMessage) => {
      if ('ready' in message) resolve({ ready: message.ready, stop: () => stopTarget(child, label) });
      else reject(new Error(`the benchmark server did not start:\n${message.error}`));
    });
    child.once('exit', (code) => reject(new Error(`the benchmark server exited early (code ${code})`)));
  });
}

/** Servers that failed to clean up (a database or directory may be left over); reported at the end. */
const cleanupFailures: string[] = [];

/** Asks the child to clean up (drop its database, remove its directory) and waits until it has. */
function stopTarget(child: ChildProcess, label: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------------------
// Measuring.

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
  // timeout bounds a single request; `amount` and `duration` bound the scenario.
  const base = { connections: CONNECTIONS, timeout: 10, ...options };
  await fire({ ...base, amount: WARMUP_REQUESTS });
  const latencies: number[] = [];
  const started = performance.now();
  const result = await fire({ ...base, duration: SECONDS }, (ms) => latencies.push(ms));
  const seconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
  );
  return {
    requests: result.requests.total,
    // autocannon's own rate is an average of whole-second buckets: too coarse for runs of a few seconds.
    rps: result.requests.total / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes,
  };
}

// ---------------------------------------------------------------------------------------------------
// Scenarios.

const json = { 'content-type': 'application/json' };
const withKey = (ready: Ready) => ({ ...json, authorization: `Bearer ${ready.apiKey}` });

const BARE: Scenario = { name: 'bare Fastify GET / (baseline)', options: (r) => ({ url: r.url }) };

const PLUGBOARD: Scenario[] = [
  // No API key and no database: what Plugboard's plugins (rate limit, logger, zod) add to a request.
  { name: 'GET /health/live', options: (r) => ({ url: `${r.url}/health/live` }) },
  {
    name: 'POST /connect_sessions',
    options: (r) => ({
      url: `${r.url}/connect_sessions`,
      method: 'POST',
      headers: withKey(r),
      body: CREATE_BODY,
    }),
  },
  {
    name: 'POST /connect_sessions/authenticate',
    options: (r) => {
      // A shared counter across connections: every request looks up a different token, like real traffic.
      const tokens = r.tokens ?? [];
      let next = 0;
      return {
        url: `${r.url}/connect_sessions/authenticate`,
        method: 'POST',
        headers: withKey(r),
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ token: tokens[next++ % tokens.length] }),
            }),
          },
        ],
      };
    },
  },
];

async function runTarget(spec: TargetSpec, scenarios: Scenario[], baselineRps?: number): Promise<Row[]> {
  const label = spec.kind === 'bare' ? 'bare Fastify' : spec.backend;
  process.stderr.write(`bench: starting ${label}…\n`);
  const target = await startTarget(spec, label);
  const rows: Row[] = [];
  try {
    for (const scenario of scenarios) {
      process.stderr.write(`bench:   ${scenario.name} (${SECONDS} s)\n`);
      const measured = await measure(scenario.options(target.ready));
      const ratio = baselineRps ? measured.rps / baselineRps : 1;
      rows.push({ scenario: scenario.name, database: target.ready.database ?? '-', ratio, ...measured });
    }
  } finally {
    await target.stop();
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// Report.

const round = (n: number, digits: number) => Number(n.toFixed(digits));
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function markdownTable(rows: Row[]): string {
  const lines = [
    '| scenario | database | req/s | × bare | p50 ms | p99 ms | non-2xx | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${r.database} | ${fixed(r.rps, 0)} | ${fixed(r.ratio, 3)} | ${fixed(r.p50, 2)} | ${fixed(r.p99, 2)} | ${r.non2xx} | ${r.errors} |`,
    );
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

async function main() {
  const before = machine();
  if ((before.loadAverage[0] ?? 0) > before.cpus / 2) {
    console.warn(
      `WARNING: the machine is busy (load average ${before.loadAverage[0]} on ${before.cpus} CPUs); figures will be low and noisy.`,
    );
  }
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${DEADLINE_MS / 1000} s; stopping.`);
    // SIGTERM lets each server drop its database and directory before it exits.
    for (const child of children) child.kill('SIGTERM');
    process.exit(2);
  }, DEADLINE_MS);
  deadline.unref();

  const backends: Backend[] = ['pglite-memory', 'pglite-disk'];
  if (process.env.DATABASE_URL) backends.push('postgres');

  const [baseline] = await runTarget({ kind: 'bare' }, [BARE]);
  if (!baseline) throw new Error('the baseline produced no result');
  const rows: Row[] = [baseline];
  for (const backend of backends) {
    rows.push(
      ...(await runTarget({ kind: 'plugboard', backend, tokens: TOKEN_POOL }, PLUGBOARD, baseline.rps)),
    );
  }

  const settings = {
    seconds: SECONDS,
    connections: CONNECTIONS,
    warmup: WARMUP_REQUESTS,
    tokens: TOKEN_POOL,
  };
  if (process.argv.includes('--json')) {
    const rounded = rows.map((r) => ({
      ...r,
      rps: round(r.rps, 1),
      ratio: round(r.ratio, 4),
      p50: round(r.p50, 3),
      p99: round(r.p99, 3),
    }));
    const report = {
      machine: { ...machine(), loadAverageBefore: before.loadAverage },
      settings,
      rows: rounded,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const m = machine();
    console.log(
      `\n${m.cpus} × ${m.cpu}, Node ${m.node}, load average ${before.loadAverage[0]} before and ${m.loadAverage[0]} after; ` +
        `${SECONDS} s per scenario after ${WARMUP_REQUESTS} warm-up requests, ${CONNECTIONS} connections\n`,
    );
    console.log(markdownTable(rows));
  }

  const failed = rows.filter((r) => r.non2xx > 0 || r.errors > 0);
  for (const r of failed) {
    console.warn(
      `WARNING: ${r.scenario} on ${r.database}: ${r.non2xx} non-2xx, ${r.errors} errors/timeouts; status codes ${JSON.stringify(r.statusCodes)}`,
    );
  }
  for (const label of cleanupFailures)
    console.warn(`WARNING: the ${label} server did not clean up properly.`);
  process.exitCode = failed.length || cleanupFailures.length ? 1 : 0;
}

await main();
