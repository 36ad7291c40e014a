/**
 * The data plane against the machine's limit: `npm run bench:data-plane` (`-- --json` for JSON).
 *
 * Every Plugboard path is measured beside a reference doing only the unavoidable part, in the same run:
 *  - POST /unified/proxy and GET /accounts/{id}/credentials vs a bare Fastify reverse proxy with a
 *    pooled keep-alive undici client to the same provider stand-in (on 127.0.0.1);
 *  - POST /connect_sessions vs bare Fastify doing one INSERT … RETURNING of a session row, and
 *    POST /connect_sessions/authenticate vs one indexed SELECT by token hash, on the same engine;
 *  - GET /hub/settings and /hub/connectors vs a bare route returning the same JSON.
 * PGlite on disk always, PostgreSQL too when DATABASE_URL is set. Loopback only; each scenario is a
 * fixed warm-up amount then BENCH_SECONDS (default 3) of load at BENCH_CONNECTIONS (default 50); a
 * deadline stops the whole run. Every server runs in its own child process (bench/data-plane-target.ts),
 * Plugboard compiled as `npm start` runs it (BENCH_SOURCES=1: src/ through tsx) with the settings `serve`
 * has on that database (BENCH_HEAP_GROWTH overrides PLUGBOARD_HEAP_GROWTH_PERCENT).
 */
import { fileURLToPath } from 'node:url';
import type autocannon from 'autocannon';
import type { DataPlaneReady, DataPlaneSpec } from './data-plane-target.ts';
import {
  type Backend,
  buildServer,
  CREATE_SESSION_BODY,
  envNumber,
  fixed,
  log,
  type Measured,
  machineBefore,
  machineReport,
  machineSummary,
  measure,
  round,
  roundMeasured,
  type Server,
  Servers,
  startDeadline,
} from './support.ts';

const SECONDS = envNumber('BENCH_SECONDS', 3, 1, 10);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50, 1, 200);
const WARMUP_REQUESTS = 1000;
const TOKEN_POOL = 200;
/** Generous: on a machine shared with other work, starting PGlite and the token pool is slow. */
const DEADLINE_MS = 480_000;
const TARGET = fileURLToPath(new URL('./data-plane-target.ts', import.meta.url));

const servers = new Servers();
const start = (spec: DataPlaneSpec, label: string): Promise<Server<DataPlaneReady>> =>
  servers.start<DataPlaneReady>(TARGET, [JSON.stringify(spec)], label);

interface Row {
  path: string;
  database: string;
  plugboard: Measured;
  reference: Measured;
  referenceName: string;
  ratio: number;
}

const json = { 'content-type': 'application/json' };

/** Each request takes the next token of the pool, like real traffic. */
function rotating(
  tokens: string[],
  make: (token: string) => Partial<autocannon.Request>,
): autocannon.Request[] {
  let next = 0;
  return [{ setupRequest: (request) => ({ ...request, ...make(tokens[next++ % tokens.length]!) }) }];
}

const run = (options: autocannon.Options) =>
  measure({ connections: CONNECTIONS, timeout: 10, ...options }, { amount: WARMUP_REQUESTS }, SECONDS);

async function fetchText(url: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.text();
}

async function benchBackend(backend: Backend, standIn: string, bareProxy: string): Promise<Row[]> {
  log(`starting Plugboard on ${backend}…`);
  const plugboard = await start(
    { kind: 'plugboard', backend, standIn, tokens: TOKEN_POOL },
    `plugboard ${backend}`,
  );
  const rows: Row[] = [];
  try {
    const p = plugboard.ready;
    const key = { ...json, authorization: `Bearer ${p.apiKey}` };
    const hubTokens = p.tokens!.slice(1);
    const hubHeaders = (token: string) => ({ 'x-hub-session-token': token, 'x-hub-version': '1' });
    const hubSettings = await fetchText(`${p.url}/hub/settings`, hubHeaders(hubTokens[0]!));
    const hubConnectors = await fetchText(`${p.url}/hub/connectors`, hubHeaders(hubTokens[0]!));
    log(`starting the bare references on ${backend}…`);
    const bare = await start(
      { kind: 'bare-db', backend, tokens: TOKEN_POOL, hubSettings, hubConnectors },
      `bare ${backend}`,
    );
    try {
      const b = bare.ready;
      const database = p.database ?? backend;
      const pair = async (
        path: string,
        referenceName: string,
        mine: autocannon.Options,
        ref: autocannon.Options,
      ) => {
        log(`  ${path} (${backend})`);
        const plugboardMeasured = await run(mine);
        const reference = await run(ref);
        const row: Row = {
          path,
          database,
          plugboard: plugboardMeasured,
          reference,
          referenceName,
          ratio: plugboardMeasured.rps / reference.rps,
        };
        rows.push(row);
        // As it comes, so a run stopped by its deadline still leaves figures behind.
        log(
          `    ${fixed(row.plugboard.rps, 0)} req/s vs ${fixed(row.reference.rps, 0)}: ${fixed(row.ratio, 2)}×, p99 ${fixed(row.plugboard.p99, 1)} ms`,
        );
      };
      const proxyBody = JSON.stringify({ path: '/v2/objects/people/records' });
      await pair(
        'POST /unified/proxy',
        'bare Fastify reverse proxy, pooled undici',
        {
          url: `${p.url}/unified/proxy`,
          method: 'POST',
          headers: { ...key, 'x-account-id': p.accountId! },
          body: proxyBody,
        },
        { url: `${bareProxy}/proxy`, method: 'POST', headers: json, body: proxyBody },
      );
      await pair(
        'GET /accounts/{id}/credentials',
        'bare Fastify reverse proxy, pooled undici',
        { url: `${p.url}/accounts/${p.accountId}/credentials`, headers: key },
        { url: `${bareProxy}/proxy`, method: 'POST', headers: json, body: proxyBody },
      );
      await pair(
        'POST /connect_sessions',
        'bare Fastify: one INSERT … RETURNING',
        { url: `${p.url}/connect_sessions`, method: 'POST', headers: key, body: CREATE_SESSION_BODY },
        { url: `${b.url}/insert`, method: 'POST', headers: json, body: '{}' },
      );
      await pair(
        'POST /connect_sessions/authenticate',
        'bare Fastify: one SELECT by token hash',
        {
          url: `${p.url}/connect_sessions/authenticate`,
          method: 'POST',
          headers: key,
          requests: rotating(hubTokens, (token) => ({ body: JSON.stringify({ token }) })),
        },
        {
          url: `${b.url}/select`,
          method: 'POST',
          headers: json,
          requests: rotating(b.tokens!, (token) => ({ body: JSON.stringify({ token }) })),
        },
      );
      // The references get the same requests, tokens included (they ignore them): building each request
      // costs the client, which shares the machine, so both sides must cost it the same.
      await pair(
        'GET /hub/settings',
        'bare Fastify route, same JSON',
        {
          url: `${p.url}/hub/settings`,
          requests: rotating(hubTokens, (token) => ({ headers: hubHeaders(token) })),
        },
        {
          url: `${b.url}/hub-settings`,
          requests: rotating(hubTokens, (token) => ({ headers: hubHeaders(token) })),
        },
      );
      await pair(
        'GET /hub/connectors',
        'bare Fastify route, same JSON',
        {
          url: `${p.url}/hub/connectors`,
          requests: rotating(hubTokens, (token) => ({ headers: hubHeaders(token) })),
        },
        {
          url: `${b.url}/hub-connectors`,
          requests: rotating(hubTokens, (token) => ({ headers: hubHeaders(token) })),
        },
      );
    } finally {
      await bare.stop();
    }
  } finally {
    await plugboard.stop();
  }
  return rows;
}

function markdownTable(rows: Row[]): string {
  const lines = [
    '| path | database | Plugboard req/s | p50 / p99 ms | reference | ref req/s | ref p50 / p99 ms | ratio |',
    '|---|---|---:|---:|---|---:|---:|---:|',
  ];
  for (const r of rows) {
    const bad = r.plugboard.non2xx + r.plugboard.errors > 0 ? ' ⚠' : '';
    lines.push(
      `| ${r.path}${bad} | ${r.database} | ${fixed(r.plugboard.rps, 0)} | ${fixed(r.plugboard.p50, 1)} / ${fixed(r.plugboard.p99, 1)} | ${r.referenceName} | ${fixed(r.reference.rps, 0)} | ${fixed(r.reference.p50, 1)} / ${fixed(r.reference.p99, 1)} | ${fixed(r.ratio, 2)}× |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const before = machineBefore();
  buildServer({ ifTargeted: true });
  startDeadline(DEADLINE_MS, 'stopping.', () => void servers.terminate(), 0);
  const backends: Backend[] = ['pglite-disk'];
  if (process.env.DATABASE_URL) backends.push('postgres');
  const standIn = await start({ kind: 'stand-in' }, 'provider stand-in');
  const bareProxy = await start({ kind: 'bare-proxy', standIn: standIn.ready.url }, 'bare proxy');
  const rows: Row[] = [];
  try {
    for (const backend of backends)
      rows.push(...(await benchBackend(backend, standIn.ready.url, bareProxy.ready.url)));
  } finally {
    await bareProxy.stop();
    await standIn.stop();
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
      plugboard: roundMeasured(r.plugboard),
      reference: roundMeasured(r.reference),
      ratio: round(r.ratio, 3),
    }));
    process.stdout.write(
      `${JSON.stringify({ machine: machineReport(before), settings, rows: rounded }, null, 2)}\n`,
    );
  } else {
    console.log(
      `\n${machineSummary(before)}${SECONDS} s per scenario after ${WARMUP_REQUESTS} warm-up requests, ${CONNECTIONS} connections\n`,
    );
    console.log(markdownTable(rows));
  }
  const failed = rows.filter(
    (r) => r.plugboard.non2xx + r.plugboard.errors + r.reference.non2xx + r.reference.errors > 0,
  );
  for (const r of failed) {
    console.warn(
      `WARNING: ${r.path} on ${r.database}: status codes ${JSON.stringify(r.plugboard.statusCodes)} / reference ${JSON.stringify(r.reference.statusCodes)}, errors ${r.plugboard.errors}/${r.reference.errors}`,
    );
  }
  process.exitCode = failed.length || servers.warnCleanupFailures() ? 1 : 0;
}

await main();
