/**
 * The servers of bench/data-plane.ts, one per child process (argv[2] is a DataPlaneSpec as JSON):
 *  - stand-in: a provider API on 127.0.0.1 answering every request with a small JSON body;
 *  - bare-proxy: the reference for the proxy, a bare Fastify reverse proxy with a pooled keep-alive
 *    undici client to the same stand-in;
 *  - bare-db: the engine-bound references, bare Fastify doing just the INSERT … RETURNING of a session
 *    row, just the indexed SELECT by token hash, and returning fixed JSON (the hub reads' reference);
 *  - plugboard: the real app with caches on, a project, an Attio account pointed at the stand-in and a
 *    pool of session tokens.
 * Protocol: serveChild's (bench/support.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CreatedProject } from '../packages/server/src/services/tenancy.ts';
import {
  type Backend,
  describeDatabase,
  listen,
  openBackend,
  QUIET_ENV,
  serveChild,
  serverModule,
} from './support.ts';

export type DataPlaneSpec =
  | { kind: 'stand-in' }
  | { kind: 'bare-proxy'; standIn: string }
  | { kind: 'bare-db'; backend: Backend; tokens: number; hubSettings: string; hubConnectors: string }
  | {
      kind: 'plugboard';
      backend: Backend;
      standIn: string;
      tokens: number;
      /** bench/memory-under-load.ts: more projects (API keys), accounts and a large token pool per project. */
      projects?: number;
      accounts?: number;
      pool?: number;
    };

/** One project of a plugboard target: its API key, its accounts and its session tokens. */
export interface ProjectReady {
  apiKey: string;
  accountIds: string[];
  tokens: string[];
}

export interface DataPlaneReady {
  url: string;
  database?: string;
  apiKey?: string;
  accountId?: string;
  tokens?: string[];
  /** Every project, the first one included (plugboard targets only). */
  projects?: ProjectReady[];
}

/** What a plugboard target answers to the IPC message 'memory' (or 'memory-gc': after a full GC). */
export interface MemoryReport {
  /** Whether a full GC ran first ('memory-gc' in a process started with --expose-gc). */
  collected: boolean;
  memory: NodeJS.MemoryUsage;
  /** Entries in each data cache (src/cache/data-caches.ts), or null when caching is off. */
  caches: Record<string, number> | null;
}

type OnCleanup = (close: () => Promise<void>) => void;

const PROVIDER_BODY = JSON.stringify({ data: [{ id: 1, name: 'Ada Lovelace', email: 'ada@example.com' }] });

async function startStandIn(onCleanup: OnCleanup): Promise<DataPlaneReady> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(PROVIDER_BODY));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function startBareProxy(standIn: string, onCleanup: OnCleanup): Promise<DataPlaneReady> {
  const { default: Fastify } = await import('fastify');
  const { Agent } = await import('undici');
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
  const app = Fastify({ logger: false });
  // The agent's own request() with origin and path, as Plugboard calls it: undici's top-level
  // request(url) costs about a fifth of this server's CPU per request (docs/benchmarks.md, sixth pass).
  app.post<{ Body: { path?: string } }>('/proxy', async (req, reply) => {
    const res = await agent.request({
      origin: standIn,
      path: req.body?.path ?? '/',
      method: 'GET',
      headers: { authorization: 'Bearer good-bench-token', accept: 'application/json' },
    });
    reply.status(res.statusCode).header('content-type', res.headers['content-type'] as string);
    return reply.send(res.body);
  });
  onCleanup(async () => {
    await app.close();
    await agent.close();
  });
  return { url: await listen(app) };
}

/** A session row as POST /connect_sessions would write it, for a token chosen here; valid for 30 minutes. */
async function sessionRow(project: Pick<CreatedProject, 'organization_id' | 'project_id'>, token: string) {
  const { sql } = await import('kysely');
  const { hashSecret } = await import('../packages/server/src/crypto/tokens.ts');
  return {
    organization_id: project.organization_id,
    project_id: project.project_id,
    token_hash: hashSecret(token),
    origin_owner_id: 'customer-1',
    origin_owner_name: 'Acme',
    categories: JSON.stringify(['hris']),
    metadata: JSON.stringify({ source: 'bench' }),
    type: 'production' as const,
    multiple: false,
    external_trigger_token: randomBytes(24).toString('hex'),
    expires_at: sql<Date>`now() + make_interval(secs => 1800)` as never,
  };
}

async function startBareDb(
  spec: Extract<DataPlaneSpec, { kind: 'bare-db' }>,
  onCleanup: OnCleanup,
): Promise<DataPlaneReady> {
  const { default: Fastify } = await import('fastify');
  const { sql } = await import('kysely');
  const { createProject } = await import('../packages/server/src/services/tenancy.ts');
  const { hashSecret } = await import('../packages/server/src/crypto/tokens.ts');
  const database = await openBackend(spec.backend);
  onCleanup(() => database.close());
  const { db } = database;
  const project = await createProject(db, { name: 'bench' });
  const insert = async (token: string) =>
    db
      .insertInto('connect_sessions')
      .values(await sessionRow(project, token))
      .returningAll()
      .executeTakeFirstOrThrow();
  const tokens: string[] = [];
  for (let i = 0; i < spec.tokens; i++) {
    const token = `bench-${randomBytes(16).toString('hex')}`;
    await insert(token);
    tokens.push(token);
  }
  const app = Fastify({ logger: false });
  app.post('/insert', async (_req, reply) => {
    const row = await insert(`bench-${randomBytes(16).toString('hex')}`);
    return reply.status(201).send({ id: Number(row.id), token: 'x' });
  });
  app.post<{ Body: { token: string } }>('/select', async (req) => {
    const row = await db
      .selectFrom('connect_sessions')
      .selectAll()
      .where('token_hash', '=', hashSecret(req.body.token))
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return { id: Number(row?.id) };
  });
  app.get('/hub-settings', (_req, reply) => reply.type('application/json').send(spec.hubSettings));
  app.get('/hub-connectors', (_req, reply) => reply.type('application/json').send(spec.hubConnectors));
  onCleanup(() => app.close());
  return { url: await listen(app), tokens, database: await describeDatabase(db, spec.backend) };
}

async function startPlugboard(
  spec: Extract<DataPlaneSpec, { kind: 'plugboard' }>,
  onCleanup: OnCleanup,
): Promise<DataPlaneReady> {
  // The compiled server unless BENCH_SOURCES=1 (bench/support.ts); the types are the sources'.
  const { buildApp } = await serverModule<typeof import('../packages/server/src/app.ts')>('app');
  const { cachesOf } =
    await serverModule<typeof import('../packages/server/src/cache/data-caches.ts')>('cache/data-caches');
  const { loadConfig } = await serverModule<typeof import('../packages/server/src/config.ts')>('config');
  const { loadCatalogue } =
    await serverModule<typeof import('../packages/server/src/connectors/catalogue.ts')>(
      'connectors/catalogue',
    );
  const { openVault } =
    await serverModule<typeof import('../packages/server/src/crypto/vault.ts')>('crypto/vault');
  const { createProject } =
    await serverModule<typeof import('../packages/server/src/services/tenancy.ts')>('services/tenancy');
  const database = await openBackend(spec.backend);
  onCleanup(() => database.close());
  const config = loadConfig({
    ...QUIET_ENV,
    PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback',
    // Settings that follow the database (the heap growth bound) as `serve` on DATABASE_URL gets them;
    // BENCH_HEAP_GROWTH overrides the bound, to compare settings.
    ...(spec.backend === 'postgres' ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    ...(process.env.BENCH_HEAP_GROWTH
      ? { PLUGBOARD_HEAP_GROWTH_PERCENT: process.env.BENCH_HEAP_GROWTH }
      : {}),
  });
  // As `plugboard serve` does (src/server.ts), where the module exists (older builds have none).
  await serverModule<typeof import('../packages/server/src/runtime/heap-growth.ts')>(
    'runtime/heap-growth',
  ).then(
    ({ limitHeapGrowth }) => limitHeapGrowth(config.heapGrowthPercent),
    () => {},
  );
  const vault = await openVault(database.db, randomBytes(32));
  // `listen` turns the caches on, as the real server does (older builds ignore it).
  const app = await buildApp({
    config,
    db: database.db,
    vault,
    catalogue: loadCatalogue(),
    listen: database.listen,
  } as Parameters<typeof buildApp>[0]);
  onCleanup(() => app.close());
  const url = await listen(app);
  // Set up over HTTP, as a client would. app.inject would hand Node's HTTP code stand-in request and
  // response objects besides the real ones, and leaves memory behind (about 10 KB a call measured with
  // Fastify 5.12 on Node 20), which the memory benchmarks would count.
  const post = async (path: string, headers: Record<string, string>, payload: unknown, what: string) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`${what}: ${res.status} ${body}`);
    return JSON.parse(body);
  };
  const projects: ProjectReady[] = [];
  for (let p = 0; p < (spec.projects ?? 1); p++) {
    const project = await createProject(database.db, { name: `bench-${p}` });
    const auth = { authorization: `Bearer ${project.api_key}` };
    const integration = await post(
      '/auth_configs',
      auth,
      { connector_key: 'attio', urls: { api_base_url: spec.standIn } },
      'creating the auth config',
    );
    const tokens: string[] = [];
    for (let i = 0; i < spec.tokens; i++) {
      const created = await post(
        '/connect_sessions',
        auth,
        { origin_owner_id: `customer-${i}`, origin_owner_name: 'Acme', provider: 'attio' },
        'creating a session',
      );
      tokens.push(created.token);
    }
    // Each account consumes a session of its own, so `tokens` must be at least `accounts`.
    const accountIds: string[] = [];
    for (let i = 0; i < (spec.accounts ?? 1); i++) {
      const account = await post(
        '/hub/accounts',
        { 'x-hub-session-token': tokens[i]!, 'x-hub-version': '1' },
        { integration_id: integration.id, credentials: { access_token: 'good-bench-token' } },
        'connecting the account',
      );
      accountIds.push(account.id);
    }
    // A large pool is written directly, 250 rows per INSERT: through the API it would take minutes on
    // PGlite, and larger statements leave more of the driver's native buffers behind in the idle figure.
    const pool = Array.from({ length: spec.pool ?? 0 }, () => `bench-${randomBytes(16).toString('hex')}`);
    for (let i = 0; i < pool.length; i += 250) {
      const rows = await Promise.all(pool.slice(i, i + 250).map((token) => sessionRow(project, token)));
      await database.db.insertInto('connect_sessions').values(rows).execute();
    }
    projects.push({ apiKey: project.api_key, accountIds, tokens: [...tokens, ...pool] });
  }
  process.on('message', (message) => {
    if (message !== 'memory' && message !== 'memory-gc') return;
    // With --expose-gc: a full collection first, so heapUsed is what is live (caches included).
    const gc = message === 'memory-gc' ? (globalThis as { gc?: () => void }).gc : undefined;
    gc?.();
    const caches = cachesOf(database.db);
    const report: MemoryReport = {
      collected: gc !== undefined,
      memory: process.memoryUsage(),
      caches: caches
        ? Object.fromEntries(
            (['apiKeys', 'sessions', 'accounts', 'hubReads'] as const)
              .filter((name) => caches[name])
              .map((name) => [name, caches[name].size]),
          )
        : null,
    };
    process.send?.(report);
  });
  const first = projects[0]!;
  return {
    url,
    apiKey: first.apiKey,
    accountId: first.accountIds[0],
    tokens: first.tokens,
    projects,
    database: await describeDatabase(database.db, spec.backend),
  };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as DataPlaneSpec;
await serveChild<DataPlaneReady>((onCleanup) => {
  if (spec.kind === 'stand-in') return startStandIn(onCleanup);
  if (spec.kind === 'bare-proxy') return startBareProxy(spec.standIn, onCleanup);
  if (spec.kind === 'bare-db') return startBareDb(spec, onCleanup);
  return startPlugboard(spec, onCleanup);
});
