/**
 * The server side of the benchmark. bench/connect-sessions.ts forks this file once per target so the
 * server gets its own process (event loop, heap, garbage collector) and the load generator does not
 * steal its time: with both in one thread, the client's own work would be counted as server latency.
 *
 * The spec comes as argv[2] (JSON); the protocol is serveChild's (bench/support.ts): `{ ready }` or
 * `{ error }`, serve until 'close', then close the app, drop the PostgreSQL database, remove the PGlite
 * directory and exit. Run only as a child process: the types and the helpers live in bench/support.ts.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { loadCatalogue } from '../packages/server/src/connectors/catalogue.ts';
import { openVault } from '../packages/server/src/crypto/vault.ts';
import { createProject } from '../packages/server/src/services/tenancy.ts';
import {
  type Backend,
  describeDatabase,
  listen,
  openBackend,
  QUIET_ENV,
  type Ready,
  serveChild,
  startBareFastify,
  type TargetSpec,
} from './support.ts';

type OnCleanup = (close: () => Promise<void>) => void;

async function startBare(onCleanup: OnCleanup): Promise<Ready> {
  const bare = await startBareFastify();
  onCleanup(bare.close);
  return { url: bare.url };
}

async function startPlugboard(backend: Backend, tokenCount: number, onCleanup: OnCleanup): Promise<Ready> {
  const database = await openBackend(backend);
  onCleanup(() => database.close());
  const config = loadConfig(QUIET_ENV);
  const vault = await openVault(database.db, randomBytes(32));
  const app = await buildApp({ config, db: database.db, vault, catalogue: loadCatalogue() });
  onCleanup(() => app.close());
  const { api_key } = await createProject(database.db, { name: 'bench' });
  const tokens = await createTokens(app, api_key, tokenCount);
  return {
    url: await listen(app),
    apiKey: api_key,
    tokens,
    database: await describeDatabase(database.db, backend),
  };
}

/** Creates the token pool through the API itself (in-process inject), so it depends only on the wire contract. */
async function createTokens(app: FastifyInstance, apiKey: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/connect_sessions',
      headers: { authorization: `Bearer ${apiKey}` },
      payload: { origin_owner_id: `customer-${i}`, origin_owner_name: 'Acme' },
    });
    if (res.statusCode !== 201) {
      throw new Error(`creating session ${i} for the token pool failed: ${res.statusCode} ${res.body}`);
    }
    tokens.push(res.json<{ token: string }>().token);
  }
  return tokens;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as TargetSpec;
await serveChild<Ready>((onCleanup) =>
  spec.kind === 'bare' ? startBare(onCleanup) : startPlugboard(spec.backend, spec.tokens, onCleanup),
);
