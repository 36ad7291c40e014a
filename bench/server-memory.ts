/**
 * The memory of the server as operators run it: `npm run bench:server-memory` (`-- --json` for JSON).
 *
 * It builds the package and starts `node dist/main.js serve` (what `npm start` runs: compiled code, no
 * tsx, default log level with standard output drained) on 127.0.0.1, on a new PGlite data directory and,
 * with DATABASE_URL, on a throw-away PostgreSQL database. For each it reads the process's VmRSS
 * (/proc/<pid>/status) on the first start (the cluster is created then) and after a restart, idle, then
 * every SAMPLE_MS under BENCH_SECONDS (default 15) of `POST /connect_sessions` from BENCH_CONNECTIONS
 * connections with the key the first start printed. Each database runs once per BENCH_HEAP_GROWTH value
 * (default "0,default": V8's own heap sizing, then Plugboard's default PLUGBOARD_HEAP_GROWTH_PERCENT for
 * that database, 50 on PGlite and 25 on PostgreSQL). PGlite's
 * floor is measured in the same run, in plain node too: a process that opens an existing cluster and
 * answers one query, with PGlite's defaults and with Plugboard's `shared_buffers`. Stops by itself.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import {
  buildServer,
  CREATE_SESSION_BODY,
  cpuMsOf,
  envNumber,
  fixed,
  log,
  machineBefore,
  machineReport,
  machineSummary,
  rssOf,
  SERVER_DIR,
  sleep,
  startDeadline,
  throwawayPostgres,
} from './support.ts';

const SECONDS = envNumber('BENCH_SECONDS', 15, 3, 300);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50, 1, 200);
/**
 * PLUGBOARD_HEAP_GROWTH_PERCENT values to compare, each a run of its own: 0 is V8's own sizing,
 * `default` leaves the setting unset (Plugboard's default for the database).
 */
const GROWTHS = (process.env.BENCH_HEAP_GROWTH ?? '0,default').split(',').map((v) => {
  if (!/^(\d{1,4}|default)$/.test(v))
    throw new Error(`BENCH_HEAP_GROWTH is a list such as 0,default,25,50 (got "${v}")`);
  return v;
});
const SAMPLE_MS = 500;
/** After the server answers: let start-up work (migrations, the first key) settle before the idle reading. */
const IDLE_MS = 3000;
const MB = 1024 * 1024;

const mb = (bytes: number | undefined) => fixed(bytes === undefined ? undefined : bytes / MB, 0);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Running {
  child: ChildProcess;
  url: string;
  /** Everything the server printed (the first start's API key is in it). */
  output: () => string;
}

const running = new Set<ChildProcess>();

async function serve(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js', 'serve'], {
    cwd: SERVER_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      PLUGBOARD_RATE_LIMIT_PER_MINUTE: '100000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  // Only the start is kept (the key); the request log is read and dropped, as a log collector would.
  let output = '';
  const keep = (chunk: Buffer) => {
    if (output.length < 64 * 1024) output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited (code ${child.exitCode}):\n${output}`);
    const ok = await fetch(`${url}/health/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return { child, url, output: () => output };
    await sleep(100);
  }
  throw new Error(`the server did not become ready within 120 s:\n${output}`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Result {
  database: string;
  heapGrowth: string;
  firstStart: number;
  idle: number;
  samples: number[];
  peak: number;
  end: number;
  rps: number;
  /** Server CPU time per create, in microseconds: other work on the machine distorts it far less than rps. */
  cpuPerCreate: number;
  non2xx: number;
  errors: number;
}

async function measureServer(
  database: string,
  heapGrowth: string,
  env: Record<string, string>,
): Promise<Result> {
  const settings = heapGrowth === 'default' ? env : { ...env, PLUGBOARD_HEAP_GROWTH_PERCENT: heapGrowth };
  let server = await serve(settings);
  await sleep(IDLE_MS);
  const firstStart = await rssOf(server.child.pid!);
  const apiKey = /pbk_[A-Za-z0-9_-]+/.exec(server.output())?.[0];
  if (!apiKey) throw new Error(`the first start printed no API key:\n${server.output()}`);
  await stop(server.child);
  server = await serve(settings);
  try {
    await sleep(IDLE_MS);
    const pid = server.child.pid!;
    const idle = await rssOf(pid);
    const samples: number[] = [];
    const timer = setInterval(() => void rssOf(pid).then((rss) => samples.push(rss)), SAMPLE_MS);
    const cpuBefore = await cpuMsOf(pid);
    const result = await autocannon({
      url: `${server.url}/connect_sessions`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: CREATE_SESSION_BODY,
      connections: CONNECTIONS,
      duration: SECONDS,
    });
    clearInterval(timer);
    const cpuUs = ((await cpuMsOf(pid)) - cpuBefore) * 1000;
    return {
      database,
      heapGrowth: heapGrowth === '0' ? "V8's own" : heapGrowth === 'default' ? 'default' : `${heapGrowth} %`,
      firstStart,
      idle,
      samples,
      peak: Math.max(...samples),
      end: await rssOf(pid),
      rps: result.requests.average,
      cpuPerCreate: cpuUs / Math.max(1, result.requests.total),
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
    };
  } finally {
    await stop(server.child);
  }
}

/** PGlite alone in plain node: an existing cluster opened with `postgresqlconf`, one query; its RSS. */
async function pgliteFloor(postgresqlconf: string[]): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugboard-floor-'));
  try {
    const pgdata = path.join(dir, 'pgdata');
    const created = spawnSync(process.execPath, ['src/db/create-cluster.mjs', pgdata], { cwd: SERVER_DIR });
    if (created.status !== 0) throw new Error(`create-cluster failed: ${created.stderr}`);
    const script = `
      const { PGlite } = await import('@electric-sql/pglite');
      const db = await PGlite.create(${JSON.stringify(pgdata)}, { postgresqlconf: ${JSON.stringify(postgresqlconf)} });
      await db.query('select 1');
      process.stdout.write(String(process.memoryUsage().rss));
      await db.close();`;
    const opened = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: SERVER_DIR });
    if (opened.status !== 0) throw new Error(`PGlite did not open: ${opened.stderr}`);
    return Number(opened.stdout.toString());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function pgliteRuns(): Promise<Result[]> {
  const results: Result[] = [];
  for (const growth of GROWTHS) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'plugboard-bench-'));
    try {
      log(`PGlite, heap growth ${growth}…`);
      results.push(await measureServer('PGlite, on disk', growth, { PLUGBOARD_DATA_DIR: dir }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return results;
}

async function postgresRuns(): Promise<Result[]> {
  const results: Result[] = [];
  for (const growth of GROWTHS) {
    const { url, drop } = await throwawayPostgres();
    try {
      log(`PostgreSQL, heap growth ${growth}…`);
      results.push(await measureServer('PostgreSQL', growth, { DATABASE_URL: url }));
    } finally {
      await drop();
    }
  }
  return results;
}

function markdown(results: Result[], floors: { defaults: number; plugboard: number }): string {
  const lines = [
    '| database | heap growth | first start, idle MB | restarted, idle MB | peak under creates MB | end of load MB | peak above floor MB | creates/s | CPU µs per create |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const pglite = r.database.startsWith('PGlite');
    const bad = r.non2xx + r.errors > 0 ? ` ⚠ ${r.non2xx} non-2xx, ${r.errors} errors` : '';
    lines.push(
      `| ${r.database} | ${r.heapGrowth} | ${mb(r.firstStart)} | ${mb(r.idle)} | ${mb(r.peak)} | ${mb(r.end)} | ${pglite ? mb(r.peak - floors.plugboard) : '-'} | ${fixed(r.rps, 0)}${bad} | ${fixed(r.cpuPerCreate, 0)} |`,
    );
  }
  return [
    ...lines,
    '',
    `PGlite floor (plain node, existing cluster, one query): ${mb(floors.defaults)} MB with PGlite's defaults, ${mb(floors.plugboard)} MB with Plugboard's shared_buffers = 16MB.`,
    '',
    'RSS under load, every sample (MB):',
    ...results.map((r) => `- ${r.database}, ${r.heapGrowth}: ${r.samples.map((s) => mb(s)).join(' ')}`),
  ].join('\n');
}

const before = machineBefore();
const cancelDeadline = startDeadline(
  (8 * SECONDS + 300) * 1000,
  'stopping the servers',
  () => Promise.all([...running].map(stop)),
  10_000,
);
buildServer();
log('measuring the PGlite floor…');
const floors = {
  defaults: await pgliteFloor([]),
  plugboard: await pgliteFloor(['shared_buffers = 16MB']),
};
const results = [...(await pgliteRuns()), ...(process.env.DATABASE_URL ? await postgresRuns() : [])];
cancelDeadline();
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ machine: machineReport(before), seconds: SECONDS, floors, results }, null, 2));
} else {
  console.log(
    `${machineSummary(before)}${SECONDS} s of POST /connect_sessions from ${CONNECTIONS} connections\n\n${markdown(results, floors)}`,
  );
}
