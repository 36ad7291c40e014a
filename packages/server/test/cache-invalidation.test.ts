import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { buildApp } from '../src/app.ts';
import { cachesOf } from '../src/cache/data-caches.ts';
import { loadConfig } from '../src/config.ts';
import { hashSecret } from '../src/crypto/tokens.ts';
import { openVault } from '../src/crypto/vault.ts';
import { type DatabaseHandle, type Db, openDatabase } from '../src/db/database.ts';
import { revokeApiKey } from '../src/services/tenancy.ts';
import { backends } from './support/backends.ts';
import {
  connectAttio,
  createSession,
  enableAttio,
  hubCall,
  startAcceptingProvider,
} from './support/connect.ts';
import type { FakeProvider } from './support/fake-provider.ts';
import { call, freePort, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

/**
 * Cached API keys, sessions, accounts, hub answers and latest attempts. TTLs are an hour here, so every change below can only have
 * reached a cache by its notice (or, in the process that made it, at once), never by expiry.
 */
const HOUR = 3_600_000;
const LONG = { apiKeys: HOUR, sessions: HOUR, accounts: HOUR, hubReads: HOUR, latestAttempts: HOUR };

/** Another process's view arrives by notice: ask until it shows, giving up well before any TTL. */
async function eventually(check: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not seen within 10 s (the TTL is an hour)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Target = { url: string };

for (const backend of backends()) {
  describe(`caches are invalidated everywhere (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    /** A second server on the same PostgreSQL (its own pool, listener and caches); PGlite has one. */
    let second: { url: string; db: Db; close: () => Promise<void> } | undefined;
    let others: Target[];

    before(async () => {
      provider = await startAcceptingProvider();
      server = await startTestServer(backend, LOOPBACK_PROVIDERS, { caches: LONG });
      if (backend === 'postgres') {
        const db2: DatabaseHandle = await openDatabase({
          databaseUrl: server.database.url,
          dataDir: 'memory',
        });
        const port = await freePort();
        const app2 = await buildApp({
          config: loadConfig({
            ...LOOPBACK_PROVIDERS,
            LOG_LEVEL: 'silent',
            PLUGBOARD_PUBLIC_URL: `http://127.0.0.1:${port}`,
          }),
          db: db2.db,
          vault: await openVault(db2.db, server.masterKey),
          catalogue: server.catalogue,
          listen: db2.listen,
          cacheTtls: LONG,
        });
        await app2.listen({ host: '127.0.0.1', port });
        second = {
          url: `http://127.0.0.1:${port}`,
          db: db2.db,
          close: async () => {
            await app2.close();
            await db2.close();
          },
        };
      }
      // On PGlite the "other process" is a writer behind the server's back: SQL on the same database.
      others = second ? [second] : [];
    });
    after(async () => {
      await second?.close();
      await server.close();
      await provider.close();
    });

    const on = (target: Target) => ({ ...server, url: target.url }) as TestServer;
    const everywhere = () => [server as Target, ...others];
    const dbs = () => [server.database.db, ...(second ? [second.db] : [])];

    test('rotating credentials: at once here, by notice in the other process', async () => {
      const { api_key: key } = await server.newProject();
      const integration = await enableAttio(server, key, provider);
      const id = await connectAttio(server, key, integration, {}, 'good-old-token-0123456789');
      for (const t of everywhere()) {
        const res = await call(on(t), 'GET', `/accounts/${id}/credentials`, { key });
        assert.equal(res.body.credentials.access_token, 'good-old-token-0123456789');
      }
      // Both processes hold the account now: what follows is about invalidation, not about reads.
      for (const db of dbs()) assert.ok(cachesOf(db)?.accounts.get(id), 'the account is cached');
      const patched = await call(server, 'PATCH', `/accounts/${id}`, {
        key,
        body: { credentials: { access_token: 'good-new-token-0123456789' } },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      const here = await call(server, 'GET', `/accounts/${id}/credentials`, { key });
      assert.equal(here.body.credentials.access_token, 'good-new-token-0123456789');
      for (const t of others) {
        await eventually(async () => {
          const res = await call(on(t), 'GET', `/accounts/${id}/credentials`, { key });
          return res.body.credentials?.access_token === 'good-new-token-0123456789';
        }, 'the rotated token in the other process');
      }
    });

    test('a rotation written by SQL (another tool) reaches the cache', async () => {
      const { api_key: key } = await server.newProject();
      const integration = await enableAttio(server, key, provider);
      const id = await connectAttio(server, key, integration, {}, 'good-sql-token-0123456789');
      for (const t of everywhere()) {
        assert.equal((await call(on(t), 'GET', `/accounts/${id}/credentials`, { key })).status, 200);
      }
      for (const db of dbs()) assert.ok(cachesOf(db)?.accounts.get(id), 'the account is cached');
      // The credentials answer carries the cached row's setup_information: a change to it must show.
      await sql`update linked_accounts set setup_information = '{"region":"eu"}', updated_at = now() where id = ${id}`.execute(
        server.database.db,
      );
      for (const t of everywhere()) {
        await eventually(async () => {
          const res = await call(on(t), 'GET', `/accounts/${id}/credentials`, { key });
          return res.body.setup_information?.region === 'eu';
        }, 'the changed setup information');
      }
      await sql`delete from linked_accounts where id = ${id}`.execute(server.database.db);
      for (const t of everywhere()) {
        await eventually(
          async () => (await call(on(t), 'GET', `/accounts/${id}/credentials`, { key })).status === 404,
          'the deleted account',
        );
      }
    });

    test('deleting an account: proxy and credentials stop at once here, by notice elsewhere', async () => {
      const { api_key: key } = await server.newProject();
      const integration = await enableAttio(server, key, provider);
      const id = await connectAttio(server, key, integration);
      for (const t of everywhere()) {
        assert.equal((await call(on(t), 'GET', `/accounts/${id}/credentials`, { key })).status, 200);
        const proxied = await call(on(t), 'POST', '/unified/proxy', {
          key,
          headers: { 'x-account-id': id },
          body: { path: '/v2/self' },
        });
        assert.equal(proxied.status, 200, JSON.stringify(proxied.body));
      }
      assert.equal((await call(server, 'DELETE', `/accounts/${id}`, { key })).status, 200);
      assert.equal((await call(server, 'GET', `/accounts/${id}/credentials`, { key })).status, 404);
      for (const t of others) {
        await eventually(
          async () => (await call(on(t), 'GET', `/accounts/${id}/credentials`, { key })).status === 404,
          'the deleted account in the other process',
        );
        const proxied = await call(on(t), 'POST', '/unified/proxy', {
          key,
          headers: { 'x-account-id': id },
          body: { path: '/v2/self' },
        });
        assert.equal(proxied.status, 404);
      }
    });

    test('revoking a session: the hub refuses its token at once here, by notice elsewhere', async () => {
      const { api_key: key } = await server.newProject();
      const session = await createSession(server, key);
      for (const t of everywhere()) {
        const res = await hubCall(on(t), session.token, 'GET', '/hub/settings');
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      for (const db of dbs()) assert.ok(cachesOf(db)?.sessions.get(hashSecret(session.token)));
      assert.equal((await call(server, 'DELETE', `/connect_sessions/${session.id}`, { key })).status, 204);
      assert.equal((await hubCall(server, session.token, 'GET', '/hub/settings')).status, 401);
      const auth = await call(server, 'POST', '/connect_sessions/authenticate', {
        key,
        body: { token: session.token },
      });
      assert.equal(auth.status, 401);
      for (const t of others) {
        await eventually(
          async () => (await hubCall(on(t), session.token, 'GET', '/hub/settings')).status === 401,
          'the revoked session in the other process',
        );
      }
    });

    test('a session expired by SQL (another tool) is refused', async () => {
      const { api_key: key } = await server.newProject();
      const session = await createSession(server, key);
      assert.equal((await hubCall(server, session.token, 'GET', '/hub/settings')).status, 200);
      await sql`update connect_sessions set expires_at = now() - interval '1 second' where id = ${session.id}`.execute(
        server.database.db,
      );
      await eventually(
        async () => (await hubCall(server, session.token, 'GET', '/hub/settings')).status === 401,
        'the expired session',
      );
    });

    test('hub answers follow auth configs and accounts, by notice in every process', async () => {
      const { api_key: key } = await server.newProject();
      const session = await createSession(server, key, { provider: 'attio' });
      const hub = (t: Target, path: string) => hubCall(on(t), session.token, 'GET', path);
      for (const t of everywhere()) {
        assert.deepEqual((await hub(t, '/hub/connectors')).body.integrations, []);
        assert.equal((await hub(t, '/hub/settings')).body.existing_account_id, undefined);
      }
      for (const db of dbs()) assert.ok(cachesOf(db)?.hubReads.size, 'the answers are cached');

      const integration = await enableAttio(server, key, provider);
      for (const t of everywhere()) {
        await eventually(async () => {
          const list = (await hub(t, '/hub/connectors')).body.integrations;
          return list?.length === 1 && list[0].integration_id === integration;
        }, 'the new auth config in the hub list');
      }
      // The session's owner connects: the hub now edits that account instead of adding one.
      const id = await connectAttio(server, key, integration, { provider: 'attio' });
      for (const t of everywhere()) {
        await eventually(
          async () => (await hub(t, '/hub/settings')).body.existing_account_id === id,
          'the new account in the hub settings',
        );
      }
      // Written behind the servers' backs, as another tool would.
      await sql`delete from linked_accounts where id = ${id}`.execute(server.database.db);
      await sql`update integrations set active = false where id = ${integration}`.execute(server.database.db);
      for (const t of everywhere()) {
        await eventually(async () => {
          const [settings, list] = [await hub(t, '/hub/settings'), await hub(t, '/hub/connectors')];
          return settings.body.existing_account_id === undefined && list.body.integrations?.length === 0;
        }, 'the deleted account and the disabled auth config');
      }
    });

    test("authenticate follows the session's latest attempt, by notice in every process", async () => {
      const { api_key: key } = await server.newProject();
      const integration = await enableAttio(server, key, provider);
      const session = await createSession(server, key, { provider: 'attio' });
      const latest = async (t: Target) => {
        const res = await call(on(t), 'POST', '/connect_sessions/authenticate', {
          key,
          body: { token: session.token },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.latest_connection_attempt;
      };
      for (const t of everywhere()) assert.equal(await latest(t), null);
      for (const db of dbs()) assert.ok(cachesOf(db)?.latestAttempts.get(String(session.id)), 'cached');

      // The end user connects through the hub: an attempt is written and finished.
      const connected = await hubCall(server, session.token, 'POST', '/hub/accounts', {
        integration_id: integration,
        credentials: { access_token: 'good-token-0123456789' },
      });
      assert.equal(connected.status, 201, JSON.stringify(connected.body));
      for (const t of everywhere()) {
        await eventually(
          async () => (await latest(t))?.status === 'authenticated',
          'the finished attempt in authenticate',
        );
      }
      // Written behind the servers' backs, as another tool would.
      await sql`delete from connection_attempts where session_id = ${session.id}`.execute(server.database.db);
      for (const t of everywhere()) {
        await eventually(async () => (await latest(t)) === null, 'the deleted attempt');
      }
    });

    test('revoking an API key: refused at once here, by notice elsewhere', async () => {
      const { api_key: key } = await server.newProject();
      for (const t of everywhere()) {
        assert.equal((await call(on(t), 'GET', '/accounts', { key })).status, 200);
      }
      for (const db of dbs()) assert.ok(cachesOf(db)?.apiKeys.get(hashSecret(key)), 'the key is cached');
      const keyId = (
        await sql<{ id: string }>`select id from api_keys where key_hint = ${`${key.slice(0, 8)}…`}`.execute(
          server.database.db,
        )
      ).rows[0]!.id;
      await revokeApiKey(server.database.db, keyId);
      assert.equal((await call(server, 'GET', '/accounts', { key })).status, 401);
      for (const t of others) {
        await eventually(
          async () => (await call(on(t), 'GET', '/accounts', { key })).status === 401,
          'the revoked key in the other process',
        );
      }
    });
  });
}
