/**
 * A Plugboard process's memory under a long mixed load: `npm run bench:memory` (`-- --json` for JSON).
 *
 * Plugboard runs as in bench/data-plane.ts (bench/data-plane-target.ts, its own child process), on PGlite
 * on disk and, with DATABASE_URL, on PostgreSQL, with several projects, accounts and a large pool of
 * session tokens so the caches (src/cache/) fill towards their bounds. This process drives the six
 * data-plane paths in turn (ROUND_SECONDS each, BENCH_CONNECTIONS connections, 127.0.0.1 only, every
 * request on the next account or token) for BENCH_MEMORY_SECONDS (default 120, at most 600), reading the
 * child's VmRSS every SAMPLE_MS and asking it for process.memoryUsage() and its cache sizes. The idle,
 * end-of-load and settled samples follow a full GC in the child (--expose-gc, inherited from the npm
 * script), to tell the live set from garbage. Reported: RSS idle / peak / end / settled, the slope over
 * the second half (MB per minute), PGlite's floor from the same run (bench/pglite-memory.ts) and the
 * server CPU time per request of each path (/proc/<pid>/stat), which other work distorts far less than
 * throughput. A deadline stops the run whatever happens.
 */
import { fileURLToPath } from 'node:url';
import type autocannon from 'autocannon';
import type { DataPlaneReady, DataPlaneSpec, MemoryReport, ProjectReady } from './data-plane-target.ts';
import { floorRss } from './pglite-memory.ts';
import {
  type Backend,
  buildServer,
  CREATE_SESSION_BODY,
  cpuMsOf,
  envNumber,
  fire,
  fixed,
  log,
  machineBefore,
  machineReport,
  machineSummary,
  round,
  rssOf,
  type Server,
  Servers,
  sleep,
  startDeadline,
} from './support.ts';

const SECONDS = envNumber('BENCH_MEMORY_SECONDS', 120, 10, 600);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50, 1, 200);
/** Session tokens in all; the session cache holds 20 000 and each token has two hub answers cached. */
const TOKENS = envNumber('BENCH_MEMORY_TOKENS', 40_000, 100, 200_000);
const PROJECTS = 4;
const ACCOUNTS_PER_PROJECT = 25;
const ROUND_SECONDS = 5;
const SAMPLE_MS = 2000;
/** Past the caches' longest TTL (10 s) and their one-second sweep. */
const SETTLE_MS = 15_000;
const MB = 1024 * 1024;
const TARGET = fileURLToPath(new URL('./data-plane-target.ts', import.meta.url));

const servers = new Servers();
const start = (spec: DataPlaneSpec, label: string): Promise<Server<DataPlaneReady>> =>
  servers.start<DataPlaneReady>(TARGET, [JSON.stringify(spec)], label);

// ---------------------------------------------------------------------------------------------------
// Reading the child.

interface Sample {
  /** Seconds since the load started (0 for the idle sample; past BENCH_MEMORY_SECONDS: settling). */
  t: number;
  rss: number;
  report: MemoryReport | null;
}

/** The child's own view (memoryUsage, cache sizes); null if it does not answer within 5 s. */
function askMemory(server: Server<DataPlaneReady>, gc: boolean): Promise<MemoryReport | null> {
  const { child } = server;
  return new Promise((resolve) => {
    const done = (report: MemoryReport | null) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(report);
    };
    const onMessage = (message: unknown) => {
      if (message && typeof message === 'object' && 'memory' in message) done(message as MemoryReport);
    };
    const timer = setTimeout(() => done(null), 5000);
    child.on('message', onMessage);
    child.send(gc ? 'memory-gc' : 'memory');
  });
}

/**
 * RSS and the child's report; with `gc`, after a full garbage collection in the child (the live set:
 * what cannot be freed), else as the process stands (what the machine actually gives it).
 */
async function sample(server: Server<DataPlaneReady>, t: number, gc = false): Promise<Sample> {
  const pid = server.child.pid!;
  if (gc) {
    const report = await askMemory(server, true);
    return { t, rss: await rssOf(pid), report };
  }
  const [rss, report] = await Promise.all([rssOf(pid), askMemory(server, false)]);
  return { t, rss, report };
}

// ---------------------------------------------------------------------------------------------------
// The load.

interface PathLoad {
  path: string;
  requests: number;
  non2xx: number;
  errors: number;
  cpuMs: number;
}

const json = { 'content-type': 'application/json' };

/** Each request takes the next item of the pool. */
function rotating<T>(pool: T[], make: (item: T) => Partial<autocannon.Request>): autocannon.Request[] {
  let next = 0;
  return [
    {
      setupRequest: (request) => {
        const extra = make(pool[next++ % pool.length]!);
        return { ...request, ...extra, headers: { ...request.headers, ...extra.headers } };
      },
    },
  ];
}

/** The six paths, each rotating over every project's accounts or tokens. */
function scenarios(url: string, projects: ProjectReady[]): Array<[string, autocannon.Options]> {
  const bearer = (p: ProjectReady) => `Bearer ${p.apiKey}`;
  const accounts = projects.flatMap((p) => p.accountIds.map((id) => ({ auth: bearer(p), id })));
  // The tokens that opened the accounts are spent; the rest are usable sessions.
  const tokens = interleave(
    projects.map((p) => p.tokens.slice(p.accountIds.length).map((token) => ({ auth: bearer(p), token }))),
  );
  const hub = (route: string): autocannon.Options => ({
    url: `${url}${route}`,
    requests: rotating(tokens, ({ token }) => ({
      headers: { 'x-hub-session-token': token, 'x-hub-version': '1' },
    })),
  });
  return [
    [
      'POST /unified/proxy',
      {
        url: `${url}/unified/proxy`,
        method: 'POST',
        body: JSON.stringify({ path: '/v2/objects/people/records' }),
        requests: rotating(accounts, ({ auth, id }) => ({
          headers: { ...json, authorization: auth, 'x-account-id': id },
        })),
      },
    ],
    [
      'GET /accounts/{id}/credentials',
      {
        url,
        requests: rotating(accounts, ({ auth, id }) => ({
          path: `/accounts/${id}/credentials`,
          headers: { authorization: auth },
        })),
      },
    ],
    [
      'POST /connect_sessions',
      {
        url: `${url}/connect_sessions`,
        method: 'POST',
        body: CREATE_SESSION_BODY,
        requests: rotating(projects, (p) => ({ headers: { ...json, authorization: bearer(p) } })),
      },
    ],
    [
      'POST /connect_sessions/authenticate',
      {
        url: `${url}/connect_sessions/authenticate`,
        method: 'POST',
        requests: rotating(tokens, ({ auth, token }) => ({
          headers: { ...json, authorization: auth },
          body: JSON.stringify({ token }),
        })),
      },
    ],
    ['GET /hub/settings', hub('/hub/settings')],
    ['GET /hub/connectors', hub('/hub/connectors')],
  ];
}

/** Round-robin over the lists, so consecutive requests come from different projects. */
function interleave<T>(lists: T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(...lists.map((l) => l.length)); i++)
    for (const list of lists) if (i < list.length) out.push(list[i]!);
  return out;
}

/** Least-squares slope of RSS over time, in MB per minute. */
function slopeMbPerMinute(samples: Sample[]): number {
  if (samples.length < 2) return Number.NaN;
  const n = samples.length;
  const mt = samples.reduce((s, x) => s + x.t, 0) / n;
  const mr = samples.reduce((s, x) => s + x.rss, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.t - mt) * (x.rss - mr);
    den += (x.t - mt) ** 2;
  }
  return ((num / den) * 60) / MB;
}

export interface BackendResult {
  database: string;
  idle: Sample;
  peak: Sample;
  end: Sample;
  endCollected: Sample;
  settled: Sample;
  slope: number;
  maxCaches: Record<string, number>;
  paths: PathLoad[];
  samples: Sample[];
}

async function runBackend(backend: Backend, standIn: string): Promise<BackendResult> {
  log(`starting Plugboard on ${backend} (${PROJECTS} projects, ${TOKENS} session tokens)…`);
  const server = await start(
    {
      kind: 'plugboard',
      backend,
      standIn,
      tokens: ACCOUNTS_PER_PROJECT,
      projects: PROJECTS,
      accounts: ACCOUNTS_PER_PROJECT,
      pool: Math.ceil(TOKENS / PROJECTS),
    },
    `plugboard ${backend}`,
  );
  try {
    const pid = server.child.pid!;
    await sleep(3000);
    // Seeding the pool leaves garbage behind; the idle figure is the server after a full GC.
    const idle = await sample(server, 0, true);
    log(`  idle RSS ${fixed(idle.rss / MB, 0)} MB; ${SECONDS} s of load…`);
    const samples: Sample[] = [];
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await sample(server, elapsed()));
        await sleep(SAMPLE_MS);
      }
    })();
    const paths = new Map<string, PathLoad>();
    const list = scenarios(server.ready.url, server.ready.projects!);
    while (elapsed() < SECONDS) {
      for (const [path, options] of list) {
        const left = SECONDS - elapsed();
        if (left < 1) break;
        const cpuBefore = await cpuMsOf(pid);
        const result = await fire({
          ...options,
          connections: CONNECTIONS,
          timeout: 10,
          duration: Math.min(ROUND_SECONDS, left),
        });
        const cpu = (await cpuMsOf(pid)) - cpuBefore;
        const row = paths.get(path) ?? { path, requests: 0, non2xx: 0, errors: 0, cpuMs: 0 };
        row.requests += result.requests.total;
        row.non2xx += result.non2xx;
        row.errors += result.errors + result.timeouts;
        row.cpuMs += cpu;
        paths.set(path, row);
      }
      log(`  ${fixed(elapsed(), 0)} s: RSS ${fixed((samples.at(-1)?.rss ?? 0) / MB, 0)} MB`);
    }
    sampling = false;
    await sampler;
    const load = samples.filter((s) => s.t <= SECONDS);
    const end = load.at(-1) ?? idle;
    const peak = load.reduce((a, b) => (b.rss > a.rss ? b : a), load[0] ?? idle);
    // At once, while the caches are still full: the live set under load.
    const endCollected = await sample(server, elapsed(), true);
    log(`  settling for ${SETTLE_MS / 1000} s…`);
    await sleep(SETTLE_MS);
    const settled = await sample(server, elapsed(), true);
    const maxCaches: Record<string, number> = {};
    for (const s of samples)
      for (const [name, size] of Object.entries(s.report?.caches ?? {}))
        maxCaches[name] = Math.max(maxCaches[name] ?? 0, size);
    return {
      database: server.ready.database ?? backend,
      idle,
      peak,
      end,
      endCollected,
      settled,
      slope: slopeMbPerMinute(load.filter((s) => s.t >= SECONDS / 2)),
      maxCaches,
      paths: [...paths.values()],
      samples: [...samples, settled],
    };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------------
// The report.

const mb = (bytes: number | undefined) => fixed(bytes === undefined ? undefined : bytes / MB, 0);

function markdown(results: BackendResult[], floor: number | undefined): string {
  const lines = [
    '| database | idle RSS MB (after GC) | peak RSS MB | end-of-load RSS MB | settled RSS MB (after GC) | slope, 2nd half MB/min | PGlite floor MB | peak above floor MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const pglite = r.database.startsWith('PGlite');
    lines.push(
      `| ${r.database} | ${mb(r.idle.rss)} | ${mb(r.peak.rss)} | ${mb(r.end.rss)} | ${mb(r.settled.rss)} | ${fixed(r.slope, 2)} | ${pglite ? mb(floor) : '-'} | ${pglite && floor ? mb(r.peak.rss - floor) : '-'} |`,
    );
  }
  lines.push(
    '',
    '| database | sample | RSS MB | V8 heap used / total MB | array buffers MB | other external MB (PGlite WebAssembly) | rest MB | cached: API keys / sessions / accounts / hub answers |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of results) {
    for (const [name, s] of [
      ['idle, after GC', r.idle],
      ['peak', r.peak],
      ['end of load', r.end],
      ['end of load, after GC', r.endCollected],
      [`settled ${SETTLE_MS / 1000} s, after GC`, r.settled],
    ] as const) {
      const m = s.report?.memory;
      const c = s.report?.caches;
      // Node counts a WebAssembly memory as external memory, not as an array buffer.
      const rest = m ? s.rss - m.heapTotal - m.external : undefined;
      lines.push(
        `| ${r.database} | ${name} | ${mb(s.rss)} | ${mb(m?.heapUsed)} / ${mb(m?.heapTotal)} | ${mb(m?.arrayBuffers)} | ${mb(m && m.external - m.arrayBuffers)} | ${mb(rest)} | ${c ? `${c.apiKeys} / ${c.sessions} / ${c.accounts} / ${c.hubReads ?? '-'}` : '-'} |`,
      );
    }
  }
  lines.push(
    '',
    '| database | path | requests | server CPU ms per request | non-2xx | errors |',
    '|---|---|---:|---:|---:|---:|',
  );
  for (const r of results)
    for (const p of r.paths)
      lines.push(
        `| ${r.database} | ${p.path} | ${p.requests} | ${fixed(p.cpuMs / p.requests, 3)} | ${p.non2xx} | ${p.errors} |`,
      );
  if (results.some((r) => !r.idle.report?.collected))
    lines.push(
      '',
      'No full GC ran before the "after GC" samples: run with node --expose-gc (npm run bench:memory does).',
    );
  for (const r of results) {
    const series = r.samples.filter((_, i) => i % 5 === 0).map((s) => `${fixed(s.t, 0)}s ${mb(s.rss)}`);
    lines.push('', `${r.database}, RSS MB every ~10 s: ${series.join(', ')}`);
    lines.push(`largest cache sizes seen: ${JSON.stringify(r.maxCaches)}`);
  }
  return lines.join('\n');
}

async function main() {
  const before = machineBefore();
  buildServer({ ifTargeted: true });
  const backends: Backend[] = ['pglite-disk'];
  if (process.env.DATABASE_URL) backends.push('postgres');
  // Setup (PGlite, 40 000 sessions) and settling take a few minutes on a loaded machine.
  const deadlineMs = (SECONDS + 300) * 1000 * backends.length + 120_000;
  startDeadline(deadlineMs, 'stopping.', () => servers.terminate(), 10_000);
  log('measuring the PGlite floor…');
  const floor = await floorRss();
  log(`  ${mb(floor)} MB`);
  const standIn = await start({ kind: 'stand-in' }, 'provider stand-in');
  const results: BackendResult[] = [];
  try {
    for (const backend of backends) results.push(await runBackend(backend, standIn.ready.url));
  } finally {
    await standIn.stop();
  }
  const settings = {
    seconds: SECONDS,
    connections: CONNECTIONS,
    tokens: TOKENS,
    projects: PROJECTS,
    accountsPerProject: ACCOUNTS_PER_PROJECT,
    roundSeconds: ROUND_SECONDS,
  };
  if (process.argv.includes('--json')) {
    const rounded = results.map((r) => ({ ...r, slope: round(r.slope, 3) }));
    process.stdout.write(
      `${JSON.stringify({ machine: machineReport(before), settings, floor, results: rounded }, null, 2)}\n`,
    );
  } else {
    console.log(
      `\n${machineSummary(before)}${SECONDS} s of mixed load (${ROUND_SECONDS} s per path in turn), ${CONNECTIONS} connections, ${PROJECTS} projects × ${ACCOUNTS_PER_PROJECT} accounts, ${TOKENS} session tokens\n`,
    );
    console.log(markdown(results, floor));
  }
  const failed = results.flatMap((r) => r.paths.filter((p) => p.non2xx + p.errors > 0));
  for (const p of failed) console.warn(`WARNING: ${p.path}: ${p.non2xx} non-2xx, ${p.errors} errors`);
  process.exitCode = failed.length || servers.warnCleanupFailures() ? 1 : 0;
}

await main();
