/**
 * Load benchmark for the connect sessions API (npm run bench). Loopback only, bounded in time
 * (BENCH_SECONDS per scenario, default 3).
 *
 * Each scenario's throughput is reported as a ratio to a bare Fastify JSON route measured in the same
 * run, so figures from different machines stay comparable. Runs on PGlite (in memory) always, and on
 * PostgreSQL when DATABASE_URL is set (in a fresh database that is dropped afterwards).
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { loadCatalogue } from '../packages/server/src/connectors/catalogue.ts';
import { openVault } from '../packages/server/src/crypto/vault.ts';
import { createProject } from '../packages/server/src/services/tenancy.ts';
import { type Backend, createTestDatabase } from '../packages/server/test/support/backends.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);

interface Row {
  scenario: string;
  backend: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

async function load(
  url: string,
  options: Partial<autocannon.Options>,
): Promise<Omit<Row, 'scenario' | 'backend'>> {
  // A short warm-up so JIT and connection set-up do not count against the first scenario.
  await autocannon({ url, connections: CONNECTIONS, amount: 200, ...options });
  const started = performance.now();
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, ...options });
  const seconds = (performance.now() - started) / 1000;
  return {
    // autocannon's own averages are per-second buckets: too coarse for runs of a few seconds.
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors + result.timeouts,
  };
}

async function bareRoute(): Promise<Row> {
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ ok: true }));
  const url = await listen(app);
  try {
    return { scenario: 'bare Fastify GET (baseline)', backend: '-', ...(await load(url, {})) };
  } finally {
    await app.close();
  }
}

async function plugboard(backend: Backend): Promise<Row[]> {
  const database = await createTestDatabase(backend);
  const config = loadConfig({ LOG_LEVEL: 'silent', PLUGBOARD_RATE_LIMIT_PER_MINUTE: '100000000' });
  const vault = await openVault(database.db, randomBytes(32));
  const app = await buildApp({ config, db: database.db, vault, catalogue: loadCatalogue() });
  const url = await listen(app);
  try {
    const { api_key } = await createProject(database.db, { name: 'bench' });
    const headers = { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' };
    const body = JSON.stringify({
      origin_owner_id: 'customer-1',
      origin_owner_name: 'Acme',
      categories: ['hris'],
      metadata: { source: 'bench' },
    });
    const create = await load(`${url}/connect_sessions`, { method: 'POST', headers, body });

    // Authenticate rotates through a pool of real tokens, so each request is a distinct lookup.
    const tokens: string[] = [];
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${url}/connect_sessions`, { method: 'POST', headers, body });
      tokens.push(((await res.json()) as { token: string }).token);
    }
    let next = 0;
    const authenticate = await load(`${url}/connect_sessions/authenticate`, {
      method: 'POST',
      headers,
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({ token: tokens[next++ % tokens.length] }),
          }),
        },
      ],
    });
    const health = await load(`${url}/health/live`, {});
    return [
      { scenario: 'GET /health/live (framework overhead)', backend, ...health },
      { scenario: 'POST /connect_sessions', backend, ...create },
      { scenario: 'POST /connect_sessions/authenticate', backend, ...authenticate },
    ];
  } finally {
    await app.close();
    await database.close();
  }
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

async function main() {
  const baseline = await bareRoute();
  const backends: Backend[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
  const rows: Row[] = [baseline];
  for (const backend of backends) rows.push(...(await plugboard(backend)));
  if (process.argv.includes('--json')) {
    process.stdout.write(
      `${JSON.stringify({ seconds: SECONDS, connections: CONNECTIONS, rows }, null, 2)}\n`,
    );
    return;
  }
  console.log(`\n${SECONDS} s per scenario, ${CONNECTIONS} connections, Node ${process.version}\n`);
  console.log('| scenario | database | req/s | ratio to bare | p50 ms | p99 ms | non-2xx |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const ratio = r.rps / baseline.rps;
    console.log(
      `| ${r.scenario} | ${r.backend} | ${fmt(r.rps)} | ${fmt(ratio, 3)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.non2xx} |`,
    );
  }
  const failed = rows.filter((r) => r.non2xx > 0);
  if (failed.length)
    console.warn(`\nWARNING: non-2xx answers in: ${failed.map((r) => r.scenario).join(', ')}`);
}

await main();
