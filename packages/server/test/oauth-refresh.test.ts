import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { OAuth2Server } from 'oauth2-mock-server';
import { Webhook } from 'standardwebhooks';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openVault } from '../src/crypto/vault.ts';
import { openDatabase } from '../src/db/database.ts';
import { backends } from './support/backends.ts';
import { createSession, hubCall } from './support/connect.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { enableMockHubspot, location, startMockAuthServer } from './support/oauth.ts';
import { call, freePort, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

for (const backend of backends()) {
  describe(`OAuth token refresh (${backend})`, () => {
    let server: TestServer;
    let auth: OAuth2Server;
    let api: FakeProvider;
    let key: string;
    let integration: string;
    let hooks: WebhookReceiver;
    let hookSecret: string;
    const refreshes: URLSearchParams[] = [];

    before(async () => {
      auth = await startMockAuthServer();
      // Tokens signed in the same second would be identical: make each one unique.
      auth.service.on('beforeTokenSigning', (token) => {
        token.payload.jti = randomBytes(8).toString('hex');
      });
      auth.service.on('beforeResponse', (_res, req) => {
        const body = new URLSearchParams(req.body as Record<string, string>);
        if (body.get('grant_type') === 'refresh_token') refreshes.push(body);
      });
      api = await startFakeProvider((req) =>
        req.headers.authorization?.startsWith('Bearer ')
          ? { status: 200, body: {} }
          : { status: 401, body: {} },
      );
      hooks = await startWebhookReceiver();
      server = await startTestServer(
        backend,
        {
          ...LOOPBACK_PROVIDERS,
          PLUGBOARD_WEBHOOK_ALLOWED_RANGES: 'loopback',
          PLUGBOARD_WEBHOOK_POLL_MS: '50',
        },
        { webhooks: true },
      );
      key = (await server.newProject()).api_key;
      integration = await enableMockHubspot(server, key, auth, api.url);
      const endpoint = await call(server, 'POST', '/webhook_endpoints', {
        key,
        body: { url: hooks.url, events: ['account.refresh_failed', 'account.refresh_recovered'] },
      });
      hookSecret = endpoint.body.secret;
    });
    after(async () => {
      await server.close();
      await hooks.close();
      await auth.stop();
      await api.close();
    });

    async function connect(owner: string): Promise<string> {
      const session = await createSession(server, key, { origin_owner_id: owner, provider: 'hubspot' });
      const start = new URL(`${server.url}/connect/oauth2/${integration}`);
      start.searchParams.set('redirect_uri', `${server.url}/embedded/accounts/callback`);
      start.searchParams.set('token', session.token);
      const toProvider = await location(start.toString());
      const toCallback = await location(toProvider.location!);
      const done = new URL((await location(toCallback.location!)).location!);
      assert.equal(
        done.searchParams.get('status'),
        'success',
        done.searchParams.get('error_description') ?? '',
      );
      return done.searchParams.get('account_id')!;
    }

    const expire = (id: string) =>
      server.database.db
        .updateTable('linked_accounts')
        .set({ token_expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', id)
        .execute();

    test('an expired access token is refreshed on demand, once, even under concurrent requests', async () => {
      const id = await connect('refresh-1');
      const before = (await call(server, 'GET', `/accounts/${id}/credentials`, { key })).body.credentials;
      assert.equal(refreshes.length, 0, 'a fresh token is returned as is');
      await expire(id);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => call(server, 'GET', `/accounts/${id}/credentials`, { key })),
      );
      assert.equal(refreshes.length, 1, 'one refresh for five concurrent requests');
      assert.equal(refreshes[0]!.get('refresh_token'), before.refresh_token);
      const tokens = new Set(results.map((r) => r.body.credentials.access_token));
      assert.equal(tokens.size, 1, 'everyone gets the same new token');
      assert.notEqual([...tokens][0], before.access_token);
      const row = await server.database.db
        .selectFrom('linked_accounts')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.ok(row.token_expires_at!.getTime() > Date.now());
    });

    const tokenEndpointAnswers = (statusCode: number, body: Record<string, string>) =>
      auth.service.once('beforeResponse', (res: { statusCode: number; body: unknown }) => {
        res.statusCode = statusCode;
        res.body = body;
      });
    const stored = (id: string) =>
      server.database.db
        .selectFrom('linked_accounts')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    test('a refused refresh answers 409 with the reasons, marks the account expired once, and backs off', async () => {
      const id = await connect('refresh-fail');
      await expire(id);
      tokenEndpointAnswers(400, { error: 'invalid_grant', error_description: 'refresh token revoked' });
      const refused = await call(server, 'GET', `/accounts/${id}/credentials`, { key });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.match(refused.body.message, /needs reconnecting.*invalid_grant/);
      assert.equal(refused.body.status_reasons[0].code, 'refresh_failed');
      const account = (await call(server, 'GET', `/accounts/${id}`, { key })).body;
      assert.equal(account.status, 'expired');
      assert.equal(account.status_reasons[0].code, 'refresh_failed');
      const filtered = await call(server, 'GET', '/accounts?status=expired', { key });
      assert.ok(filtered.body.some((a: { id: string }) => a.id === id));

      // Reads during the backoff answer at once, without calling the token endpoint again.
      const calls = refreshes.length;
      for (let i = 0; i < 3; i++) {
        assert.equal((await call(server, 'GET', `/accounts/${id}/credentials`, { key })).status, 409);
      }
      const proxied = await call(server, 'POST', '/unified/proxy', {
        key,
        headers: { 'x-account-id': id },
        body: { path: '/crm/v3/objects/contacts' },
      });
      assert.equal(proxied.status, 409);
      assert.equal(refreshes.length, calls, 'no token request while backing off');
      assert.ok((await stored(id)).refresh_retry_at!.getTime() > Date.now());

      // "Refresh now" ignores the backoff; the provider answers again, and the account comes back.
      const refreshed = await call(server, 'POST', `/accounts/${id}/refresh`, { key });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.equal(refreshed.body.status, 'active');
      assert.equal(refreshed.body.status_reasons, null);
      assert.equal((await call(server, 'GET', `/accounts/${id}/credentials`, { key })).status, 200);

      // One event when the account stopped working (not one per failed try), one when it recovered.
      const events = (
        await hooks.waitFor((r) => r.filter((h) => h.json.account_id === id).length >= 2)
      ).filter((h) => h.json.account_id === id);
      assert.deepEqual(
        events.map((h) => h.json.event),
        ['account.refresh_failed', 'account.refresh_recovered'],
      );
      for (const hook of events)
        new Webhook(hookSecret).verify(hook.body, hook.headers as Record<string, string>);
      assert.equal(events[0]!.json.status, 'expired');
      assert.equal(events[0]!.json.status_reasons[0].code, 'refresh_failed');
      assert.equal(events[1]!.json.status, 'active');
      assert.ok(!events.some((h) => /access_token|refresh_token/.test(h.body)), 'no tokens in events');
    });

    test('a provider outage is transient: 503 with Retry-After, the account stays active, and no retry storm', async () => {
      const id = await connect('refresh-outage');
      await expire(id);
      tokenEndpointAnswers(503, { error: 'temporarily_unavailable' });
      const down = await call(server, 'GET', `/accounts/${id}/credentials`, { key });
      assert.equal(down.status, 503, JSON.stringify(down.body));
      assert.ok(Number(down.headers.get('retry-after')) >= 1);
      const calls = refreshes.length;
      assert.equal((await call(server, 'GET', `/accounts/${id}/credentials`, { key })).status, 503);
      assert.equal(refreshes.length, calls, 'the backoff holds further reads');
      const row = await stored(id);
      assert.equal(row.status, 'active', 'an outage never marks the account expired');
      assert.equal(row.refresh_failures, 1);

      // Inside the refresh margin the stored token still works: a failed early refresh hands it out.
      await server.database.db
        .updateTable('linked_accounts')
        .set({ token_expires_at: new Date(Date.now() + 120_000), refresh_retry_at: null })
        .where('id', '=', id)
        .execute();
      tokenEndpointAnswers(503, { error: 'temporarily_unavailable' });
      const early = await call(server, 'GET', `/accounts/${id}/credentials`, { key });
      assert.equal(early.status, 200, JSON.stringify(early.body));
      assert.equal((await stored(id)).status, 'active');
      assert.equal((await call(server, 'POST', `/accounts/${id}/refresh`, { key })).status, 200);
      assert.equal((await stored(id)).refresh_failures, 0);
    });

    test('two server processes on one PostgreSQL refresh an account once', {
      skip: backend !== 'postgres',
    }, async () => {
      const id = await connect('two-processes');
      await expire(id);
      // A second, independent server: its own pool and vault instance on the same database.
      const db2 = await openDatabase({ databaseUrl: server.database.url, dataDir: 'memory' });
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
      });
      await app2.listen({ host: '127.0.0.1', port });
      try {
        const before = refreshes.length;
        const urls = [server.url, `http://127.0.0.1:${port}`, server.url, `http://127.0.0.1:${port}`];
        const results = await Promise.all(
          urls.map((url) =>
            fetch(`${url}/accounts/${id}/credentials`, { headers: { authorization: `Bearer ${key}` } }).then(
              (r) => r.json() as Promise<{ credentials: { access_token: string } }>,
            ),
          ),
        );
        assert.equal(refreshes.length - before, 1, 'the token endpoint was called once');
        assert.equal(new Set(results.map((r) => r.credentials.access_token)).size, 1);
        const token = results[0]!.credentials.access_token;
        const check = await fetch(`${api.url}/crm/v3/objects/contacts`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(check.status, 200, 'the refreshed credentials work against the provider');
      } finally {
        await app2.close();
        await db2.close();
      }
    });

    test('an unknown session or bad query cannot start a flow', async () => {
      const session = await createSession(server, key, { origin_owner_id: 'x', provider: 'hubspot' });
      const attempt = await hubCall(server, session.token, 'POST', '/hub/connection_attempts');
      assert.equal(attempt.status, 201, JSON.stringify(attempt.body));
      const res = await location(`${server.url}/connect/oauth2/not-a-uuid?token=${session.token}`);
      assert.equal(res.status, 400);
    });
  });
}
