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
import type autocannon from 'autocannon';
import {
  type Backend,
  CREATE_SESSION_BODY,
  envNumber,
  fixed,
  log,
  type Measured,
  machineBefore,
  machineReport,
  machineSummary,
  measure,
  type Ready,
  round,
  roundMeasured,
  Servers,
  startDeadline,
  type TargetSpec,
} from './support.ts';

const SECONDS = envNumber('BENCH_SECONDS', 3, 1, 10);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 20, 1, 200);
/** Discarded requests before each measurement, so JIT compilation and connection set-up do not count. */
const WARMUP_REQUESTS = 500;
/** Sessions created before the authenticate scenario; each request takes the next token in turn. */
const TOKEN_POOL = 1000;
/** Well under the 3 minutes the run may take; past it, everything is stopped. */
const DEADLINE_MS = 150_000;

interface Row extends Measured {
  scenario: string;
  database: string;
  ratio: number;
}

interface Scenario {
  name: string;
  options: (ready: Ready) => autocannon.Options;
}

/** One child process per server (bench/target.ts), so each gets a fresh heap and a fresh database. */
const servers = new Servers();

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
      body: CREATE_SESSION_BODY,
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
  log(`starting ${label}…`);
  const target = await servers.startTarget(spec, label);
  const rows: Row[] = [];
  try {
    for (const scenario of scenarios) {
      log(`  ${scenario.name} (${SECONDS} s)`);
      // timeout bounds a single request; `amount` and `duration` bound the scenario.
      const measured = await measure(
        { connections: CONNECTIONS, timeout: 10, ...scenario.options(target.ready) },
        { amount: WARMUP_REQUESTS },
        SECONDS,
      );
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

async function main() {
  const before = machineBefore();
  // SIGTERM lets each server drop its database and directory before it exits.
  startDeadline(DEADLINE_MS, 'stopping.', () => void servers.terminate(), 0);

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
    const rounded = rows.map((r) => ({ ...roundMeasured(r), ratio: round(r.ratio, 4) }));
    const report = { machine: machineReport(before), settings, rows: rounded };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    console.log(
      `\n${machineSummary(before)}` +
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
  const cleanupFailed = servers.warnCleanupFailures();
  process.exitCode = failed.length || cleanupFailed ? 1 : 0;
}

await main();
