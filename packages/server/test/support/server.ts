import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import type { CacheTtls } from '../../src/cache/data-caches.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Catalogue } from '../../src/connectors/catalogue.ts';
import { openVault, type Vault } from '../../src/crypto/vault.ts';
import type { DatabaseHandle } from '../../src/db/database.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { loadConfiguredCatalogue } from '../../src/sandbox/setup.ts';
import { type CreatedProject, createProject } from '../../src/services/tenancy.ts';
import { type Dispatcher, startDispatcher } from '../../src/webhooks/dispatcher.ts';
import { type Backend, createTestDatabase } from './backends.ts';

export interface TestServer {
  url: string;
  app: FastifyInstance;
  database: DatabaseHandle & { url?: string };
  config: Config;
  vault: Vault;
  masterKey: Buffer;
  catalogue: Catalogue;
  /** The webhook worker, when started with { webhooks: true }. */
  dispatcher?: Dispatcher;
  /** Every log line the server wrote, raw. */
  logs(): string;
  /** A mark in the log, and what was written after it: cheap when logs() would be megabytes. */
  logMark(): number;
  logsSince(mark: number): string;
  newProject(name?: string): Promise<CreatedProject>;
  close(): Promise<void>;
}

/**
 * Tests run fake providers and authorization servers on 127.0.0.1, which the outbound guard refuses
 * unless the operator opens loopback; every suite that needs it says so explicitly.
 */
export const LOOPBACK_PROVIDERS = { PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback' } as const;

/** A real server on 127.0.0.1 with a random port, a fresh database, and logs captured in memory. */
export async function startTestServer(
  backend: Backend,
  env: Record<string, string> = {},
  options: {
    pgliteDir?: string;
    webhooks?: boolean;
    caches?: CacheTtls;
    /** Hooks a suite adds to the app before it listens. */
    beforeListen?: (app: FastifyInstance) => void;
  } = {},
): Promise<TestServer> {
  const database = await createTestDatabase(backend, options.pgliteDir);
  // The public URL is the server's own address, so links and logo URLs in responses work in tests.
  const port = await freePort();
  const config = loadConfig({ LOG_LEVEL: 'info', PLUGBOARD_PUBLIC_URL: `http://127.0.0.1:${port}`, ...env });
  const chunks: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const masterKey = randomBytes(32);
  const vault = await openVault(database.db, masterKey);
  const catalogue = loadConfiguredCatalogue(config);
  const metrics = createMetrics(database.db);
  // Caches (and their LISTEN) only where a suite asks: others write rows behind the server's back.
  const app = await buildApp({
    config,
    db: database.db,
    vault,
    catalogue,
    logStream,
    metrics,
    ...(options.caches ? { listen: database.listen, cacheTtls: options.caches } : {}),
  });
  options.beforeListen?.(app);
  await app.listen({ host: '127.0.0.1', port });
  const dispatcher = options.webhooks
    ? startDispatcher({
        db: database.db,
        vault,
        config: config.webhooks,
        listen: database.listen,
        log: app.log,
        metrics,
      })
    : undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    database,
    config,
    vault,
    masterKey,
    catalogue,
    dispatcher,
    logs: () => chunks.join(''),
    logMark: () => chunks.length,
    logsSince: (mark) => chunks.slice(mark).join(''),
    newProject: (name = 'Test project') => createProject(database.db, { name }),
    close: async () => {
      await dispatcher?.stop();
      await app.close();
      await database.close();
    },
  };
}

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** fetch with JSON in and out and the project key as HTTP Basic username. */
export async function call(
  server: TestServer,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on arbitrary JSON shapes.
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${options.key}:`).toString('base64')}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const res = await fetch(server.url + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: leave the text for the assertion to show.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
