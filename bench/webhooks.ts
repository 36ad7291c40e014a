/**
 * Webhook delivery benchmark: `npm run bench:webhooks` (`-- --json` for machine-readable output).
 *
 * For each database (PGlite in memory always; PostgreSQL when DATABASE_URL is set, in a fresh database
 * dropped afterwards) it starts, in this process and on 127.0.0.1 only:
 *  - a webhook receiver (node:http) that answers 204 at once and records each delivery's arrival time,
 *    its payload's `id` and `event_date`, and checks a sample of signatures with `standardwebhooks`;
 *  - Plugboard (buildApp + listen) with the delivery worker (startDispatcher, woken by LISTEN/NOTIFY),
 *    one project and one webhook endpoint pointing at the receiver.
 * It then produces BENCH_WEBHOOK_EVENTS `connect_session.created` events by POSTing /connect_sessions
 * with autocannon and waits (bounded) until every event has arrived. Reported: delivered events per
 * second at the receiver, as a ratio to a bare Fastify JSON route measured in the same run, and the
 * commit-to-delivery lag (arrival time − the payload's event_date, which is set inside the committing
 * transaction just before its last statements).
 *
 * Everything shares one event loop (load generator, API, worker, receiver), like a single-process
 * install under load; bench/connect-sessions.ts isolates the server when measuring the API alone.
 * Bounded: a per-backend delivery deadline and a whole-run deadline stop it whatever happens.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type autocannon from 'autocannon';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { buildApp } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { loadCatalogue } from '../packages/server/src/connectors/catalogue.ts';
import { openVault } from '../packages/server/src/crypto/vault.ts';
import { createProject } from '../packages/server/src/services/tenancy.ts';
import { startDispatcher } from '../packages/server/src/webhooks/dispatcher.ts';
import {
  type Backend as AnyBackend,
  basicAuth,
  CREATE_SESSION_BODY,
  describeDatabase,
  envNumber,
  fire,
  fixed,
  listen,
  log,
  machineBefore,
  machineReport,
  machineSummary,
  openBackend,
  percentile,
  QUIET_ENV,
  round,
  sleep,
  startBareFastify,
  startDeadline,
} from './support.ts';

const EVENTS = envNumber('BENCH_WEBHOOK_EVENTS', 2000, 1, 20_000);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 16, 1, 100);
const BASELINE_SECONDS = envNumber('BENCH_SECONDS', 3, 1, 10);
/** The worker's settings; the service's defaults unless overridden for an experiment. */
const WORKER_ENV = {
  PLUGBOARD_WEBHOOK_CONCURRENCY: process.env.PLUGBOARD_WEBHOOK_CONCURRENCY,
  PLUGBOARD_WEBHOOK_POLL_MS: process.env.PLUGBOARD_WEBHOOK_POLL_MS,
};
/** Discarded requests before measuring (JIT, connection set-up); made before the endpoint exists. */
const WARMUP_REQUESTS = 500;
/** After the last POST, how long the deliveries still missing may take before the backend gives up. */
const DELIVERY_DEADLINE_MS = 60_000;
/** Every n-th arrival (and the first) has its signature checked; HMAC is cheap but not free. */
const VERIFY_EVERY = 10;
/** Everything stops by then, even if a backend hangs (two backends at 20 000 events fit well within). */
const RUN_DEADLINE_MS = 300_000;
/** On the run deadline, clean-up gets this long before the process exits anyway. */
const CLEANUP_GRACE_MS = 15_000;

type Backend = Extract<AnyBackend, 'pglite-memory' | 'postgres'>;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with the payload's event_date. */
const wallNow = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------------
// Clean-up: everything opened registers how to close it, so the run deadline can close it too.

const cleanups: Array<() => Promise<void>> = [];

/** Remembers a clean-up step for the run deadline; the returned function runs it once and forgets it. */
function track(close: () => Promise<void>): () => Promise<void> {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    cleanups.splice(cleanups.indexOf(once), 1);
    await close();
  };
  cleanups.push(once);
  return once;
}

async function closeEverything(): Promise<void> {
  // Newest first: the app before its database, the database before dropping it.
  for (const close of [...cleanups].reverse()) {
    await close().catch((err) => console.error('bench: clean-up step failed:', err));
  }
}

// ---------------------------------------------------------------------------------------------------
// The receiver.

interface Arrival {
  id: string;
  /** Wall-clock ms when the whole body had arrived. */
  at: number;
  /** The payload's event_date, in ms. */
  eventDate: number;
}

class Receiver {
  readonly arrivals: Arrival[] = [];
  readonly seen = new Set<string>();
  duplicates = 0;
  verified = 0;
  /** Bad signatures, webhook-id not matching the payload, unparsable bodies. */
  failures: string[] = [];
  /** Set once the endpoint exists: arrivals before that cannot be verified (there should be none). */
  secret: string | undefined;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly server: http.Server;

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = wallNow();
        res.writeHead(204).end();
        this.record(Buffer.concat(chunks).toString('utf8'), req.headers, at);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves once `count` distinct events have arrived. */
  waitFor(count: number): Promise<void> {
    if (this.seen.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  private record(body: string, headers: http.IncomingHttpHeaders, at: number): void {
    let payload: { id?: unknown; event_date?: unknown };
    try {
      payload = JSON.parse(body);
    } catch {
      this.fail('unparsable body');
      return;
    }
    const id = String(payload.id);
    if (this.seen.has(id)) this.duplicates++;
    else {
      this.seen.add(id);
      this.arrivals.push({ id, at, eventDate: Date.parse(String(payload.event_date)) });
    }
    if (headers['webhook-id'] !== id) this.fail(`webhook-id ${headers['webhook-id']} for event ${id}`);
    const index = this.arrivals.length + this.duplicates;
    if (index === 1 || index % VERIFY_EVERY === 0) this.verify(body, headers, id);
    this.waiters = this.waiters.filter((w) => {
      if (this.seen.size < w.count) return true;
      w.resolve();
      return false;
    });
  }

  private verify(body: string, headers: http.IncomingHttpHeaders, id: string): void {
    this.verified++;
    if (!this.secret) {
      this.fail(`event ${id} arrived before the endpoint existed`);
      return;
    }
    try {
      new Webhook(this.secret).verify(body, headers as Record<string, string>);
    } catch (err) {
      this.fail(`signature of ${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private fail(reason: string): void {
    if (this.failures.length < 1000) this.failures.push(reason);
  }
}

// ---------------------------------------------------------------------------------------------------
// Measuring.

/** Requests per second of a bare Fastify JSON route, in this process, as the yardstick. */
async function measureBare(): Promise<number> {
  log(`bare Fastify GET / (${BASELINE_SECONDS} s)`);
  const bare = await startBareFastify();
  const close = track(bare.close);
  try {
    const base = { url: bare.url, connections: CONNECTIONS, timeout: 10 };
    await fire({ ...base, amount: WARMUP_REQUESTS });
    const started = performance.now();
    const result = await fire({ ...base, duration: BASELINE_SECONDS });
    return result.requests.total / ((performance.now() - started) / 1000);
  } finally {
    await close();
  }
}

interface Row {
  backend: Backend;
  database: string;
  events: number;
  /** Distinct events that reached the receiver. */
  delivered: number;
  duplicates: number;
  /** Whether the delivery deadline passed before every event had arrived. */
  timedOut: boolean;
  /** POST /connect_sessions answered per second (the event production rate). */
  producedPerSecond: number;
  /** Deliveries per second between the first and the last arrival. */
  deliveredPerSecond: number;
  /** Delivered events over the time from the first POST to the last arrival. */
  overallPerSecond: number;
  ratio: number;
  /** Events that had arrived when the last POST was answered: the worker's backlog shows in the gap. */
  deliveredDuringLoad: number;
  /** Arrivals per second while the POSTs ran, and after: the worker's rate with and without API load. */
  duringLoadPerSecond: number;
  afterLoadPerSecond: number;
  lagP50: number;
  lagP95: number;
  lagP99: number;
  lagMax: number;
  signaturesChecked: number;
  signatureFailures: number;
  failures: string[];
  non2xx: number;
  errors: number;
  /** The outbox's own view afterwards: delivery rows per status, and tries beyond the first. */
  deliveryStatus: Record<string, number>;
  retries: number;
}

async function runBackend(backend: Backend, bareRps: number): Promise<Row> {
  log(`starting ${backend}…`);
  const closers: Array<() => Promise<void>> = [];
  try {
    const receiver = new Receiver();
    const receiverUrl = await receiver.listen();
    closers.push(track(() => receiver.close()));

    const database = await openBackend(backend);
    closers.push(track(() => database.close()));
    const config = loadConfig({ ...QUIET_ENV, PLUGBOARD_WEBHOOK_ALLOWED_RANGES: 'loopback', ...WORKER_ENV });
    const vault = await openVault(database.db, randomBytes(32));
    const app = await buildApp({ config, db: database.db, vault, catalogue: loadCatalogue() });
    closers.push(track(() => app.close()));
    const dispatcher = startDispatcher({
      db: database.db,
      vault,
      config: config.webhooks,
      listen: database.listen,
      log: { warn: (obj, msg) => console.warn('bench: dispatcher:', msg, obj) },
    });
    closers.push(track(() => dispatcher.stop()));
    const url = await listen(app);
    const { api_key } = await createProject(database.db, { name: 'bench' });
    const post: autocannon.Options = {
      url: `${url}/connect_sessions`,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: basicAuth(api_key),
      },
      body: CREATE_SESSION_BODY,
      connections: CONNECTIONS,
      timeout: 10,
    };

    // Warm-up while no endpoint exists: the events are recorded but fan out to nobody.
    await fire({ ...post, amount: WARMUP_REQUESTS });
    const created = await app.inject({
      method: 'POST',
      url: '/webhook_endpoints',
      headers: { authorization: `Bearer ${api_key}` },
      payload: { url: receiverUrl, events: ['connect_session.created'] },
    });
    if (created.statusCode !== 201) {
      throw new Error(`creating the webhook endpoint failed: ${created.statusCode} ${created.body}`);
    }
    receiver.secret = created.json<{ secret: string }>().secret;

    log(`  ${EVENTS} × POST /connect_sessions, ${CONNECTIONS} connections`);
    const started = wallNow();
    const result = await fire({ ...post, amount: EVENTS });
    const produced = wallNow();
    const deliveredDuringLoad = receiver.seen.size;
    const answered = result['2xx'];

    log(`  waiting for ${answered} deliveries (${deliveredDuringLoad} already arrived)`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      receiver.waitFor(answered).then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), DELIVERY_DEADLINE_MS);
      }),
    ]);
    clearTimeout(timer);
    // A short grace period so late duplicates (a lease running out, a retry) get counted.
    await sleep(200);

    const { rows: statusRows } = await sql<{ status: string; n: number; retries: number }>`
      select status, count(*)::int as n, coalesce(sum(attempts - 1), 0)::int as retries
      from webhook_deliveries group by status`.execute(database.db);
    const deliveryStatus = Object.fromEntries(statusRows.map((r) => [r.status, r.n]));
    const retries = statusRows.reduce((sum, r) => sum + r.retries, 0);

    const arrivals = receiver.arrivals;
    const first = arrivals[0]?.at ?? Number.NaN;
    const last = arrivals.at(-1)?.at ?? Number.NaN;
    const lags = Float64Array.from(arrivals, (a) => a.at - a.eventDate).sort();
    const deliveredPerSecond = arrivals.length > 1 ? (arrivals.length - 1) / ((last - first) / 1000) : 0;
    return {
      backend,
      database: await describeDatabase(database.db, backend),
      events: EVENTS,
      delivered: arrivals.length,
      duplicates: receiver.duplicates,
      timedOut,
      producedPerSecond: result.requests.total / ((produced - started) / 1000),
      deliveredPerSecond,
      overallPerSecond: arrivals.length / ((last - started) / 1000),
      ratio: deliveredPerSecond / bareRps,
      deliveredDuringLoad,
      duringLoadPerSecond: deliveredDuringLoad / ((produced - started) / 1000),
      afterLoadPerSecond:
        arrivals.length > deliveredDuringLoad
          ? (arrivals.length - deliveredDuringLoad) / ((last - produced) / 1000)
          : Number.NaN,
      lagP50: percentile(lags, 0.5),
      lagP95: percentile(lags, 0.95),
      lagP99: percentile(lags, 0.99),
      lagMax: lags.at(-1) ?? Number.NaN,
      signaturesChecked: receiver.verified,
      signatureFailures: receiver.failures.length,
      failures: receiver.failures.slice(0, 5),
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      deliveryStatus,
      retries,
    };
  } finally {
    // Worker, then app, then database (dropped), then receiver.
    for (const close of closers.reverse()) {
      await close().catch((err) => console.error(`bench: closing ${backend} failed:`, err));
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Report.

function markdownTable(rows: Row[], bareRps: number): string {
  const lines = [
    '| backend | events | delivered | duplicates | POST/s | delivered/s | overall/s | × bare | lag p50 ms | lag p95 ms | lag p99 ms | lag max ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| bare Fastify GET / (baseline) | - | - | - | ${fixed(bareRps, 0)} | - | - | 1.000 | - | - | - | - |`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.database} | ${r.events} | ${r.delivered}${r.timedOut ? ' (deadline)' : ''} | ${r.duplicates} | ${fixed(r.producedPerSecond, 0)} | ${fixed(r.deliveredPerSecond, 0)} | ${fixed(r.overallPerSecond, 0)} | ${fixed(r.ratio, 3)} | ${fixed(r.lagP50, 0)} | ${fixed(r.lagP95, 0)} | ${fixed(r.lagP99, 0)} | ${fixed(r.lagMax, 0)} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const before = machineBefore();
  const cancelDeadline = startDeadline(RUN_DEADLINE_MS, 'stopping.', closeEverything, CLEANUP_GRACE_MS);

  const backends: Backend[] = ['pglite-memory'];
  if (process.env.DATABASE_URL) backends.push('postgres');

  const bareRps = await measureBare();
  const rows: Row[] = [];
  try {
    for (const backend of backends) rows.push(await runBackend(backend, bareRps));
  } finally {
    await closeEverything();
    cancelDeadline();
  }

  const config = loadConfig({ ...WORKER_ENV });
  const settings = {
    events: EVENTS,
    connections: CONNECTIONS,
    warmup: WARMUP_REQUESTS,
    baselineSeconds: BASELINE_SECONDS,
    workerConcurrency: config.webhooks.concurrency,
    workerPollMs: config.webhooks.pollMs,
    deliveryDeadlineMs: DELIVERY_DEADLINE_MS,
    verifyEvery: VERIFY_EVERY,
  };
  if (process.argv.includes('--json')) {
    const report = {
      machine: machineReport(before),
      settings,
      bareRps: round(bareRps, 1),
      rows: rows.map((r) => ({
        ...r,
        producedPerSecond: round(r.producedPerSecond, 1),
        deliveredPerSecond: round(r.deliveredPerSecond, 1),
        overallPerSecond: round(r.overallPerSecond, 1),
        duringLoadPerSecond: round(r.duringLoadPerSecond, 1),
        afterLoadPerSecond: round(r.afterLoadPerSecond, 1),
        ratio: round(r.ratio, 4),
        lagP50: round(r.lagP50, 1),
        lagP95: round(r.lagP95, 1),
        lagP99: round(r.lagP99, 1),
        lagMax: round(r.lagMax, 1),
      })),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    console.log(
      `\n${machineSummary(before)}` +
        `${EVENTS} events from ${CONNECTIONS} connections after ${WARMUP_REQUESTS} warm-up requests; ` +
        `worker concurrency ${settings.workerConcurrency}, poll ${settings.workerPollMs} ms; ` +
        `baseline ${BASELINE_SECONDS} s; load generator, API, worker and receiver share one process\n`,
    );
    console.log(markdownTable(rows, bareRps));
    console.log('');
    for (const r of rows) {
      console.log(
        `- ${r.database}: ${r.deliveredDuringLoad} of ${r.delivered} delivered while the POSTs ran ` +
          `(${fixed(r.duringLoadPerSecond, 0)}/s during, ${fixed(r.afterLoadPerSecond, 0)}/s after); ` +
          `signatures checked ${r.signaturesChecked}, failures ${r.signatureFailures}; ` +
          `outbox ${JSON.stringify(r.deliveryStatus)}, retries ${r.retries}`,
      );
    }
  }

  const problems = rows.filter(
    (r) =>
      r.timedOut ||
      r.delivered !== r.events ||
      r.duplicates > 0 ||
      r.signatureFailures > 0 ||
      r.non2xx > 0 ||
      r.errors > 0,
  );
  for (const r of problems) {
    console.warn(
      `WARNING: ${r.database}: ${r.delivered}/${r.events} delivered${r.timedOut ? ' (deadline hit)' : ''}, ` +
        `${r.duplicates} duplicates, ${r.signatureFailures} verification failures ${JSON.stringify(r.failures)}, ` +
        `${r.non2xx} non-2xx, ${r.errors} errors/timeouts on POST`,
    );
  }
  process.exitCode = problems.length ? 1 : 0;
}

await main();
