import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OAuth2Server } from 'oauth2-mock-server';
import { backends } from './support/backends.ts';
import { createSession, enableAttio, hubCall, startAcceptingProvider } from './support/connect.ts';
import type { FakeProvider } from './support/fake-provider.ts';
import { type CookieJar, enableMockHubspot, location, startMockAuthServer } from './support/oauth.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

/**
 * Issue 9's holes 3–5, each proved closed: hostile ids and bodies get 400s (not 500s), the OAuth
 * callback refuses expired sessions and foreign browsers, and every connect leaves an attempt.
 */
for (const backend of backends()) {
  describe(`trust: hostile input, OAuth binding and attempts (${backend})`, () => {
    let server: TestServer;
    let auth: OAuth2Server;
    let provider: FakeProvider;
    let key: string;
    let hubspot: string;
    let attio: string;

    before(async () => {
      auth = await startMockAuthServer();
      provider = await startAcceptingProvider();
      // Webhooks to loopback so an endpoint can be registered: the outbox then stores every event (no
      // worker runs here, nothing is sent).
      server = await startTestServer(backend, {
        ...LOOPBACK_PROVIDERS,
        PLUGBOARD_WEBHOOK_ALLOWED_RANGES: 'loopback',
      });
      key = (await server.newProject()).api_key;
      const endpoint = await call(server, 'POST', '/webhook_endpoints', {
        key,
        body: { url: 'http://127.0.0.1:9/hook' },
      });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      hubspot = await enableMockHubspot(server, key, auth, provider.url);
      attio = await enableAttio(server, key, provider);
    });
    after(async () => {
      await server.close();
      await auth.stop();
      await provider.close();
    });

    const startUrl = (token: string, extra: Record<string, string> = {}) => {
      const url = new URL(`${server.url}/connect/oauth2/${hubspot}`);
      url.searchParams.set('redirect_uri', `${server.url}/embedded/accounts/callback`);
      url.searchParams.set('token', token);
      for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
      return url.toString();
    };
    const accountsOf = async (owner: string) =>
      (await call(server, 'GET', `/accounts?origin_owner_id=${owner}`, { key })).body as unknown[];

    test('NUL in ids and a 20,000-level body are 400s in the wire shape, and the server stays healthy', async () => {
      const { token } = await createSession(server, key);
      for (const method of ['GET', 'DELETE']) {
        const res = await hubCall(server, token, method, '/hub/connection_attempts/a%00b');
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.statusCode, 400);
        assert.match(res.body.message, /NUL/);
      }
      const start = await fetch(startUrl(token, { connection_attempt_id: 'a\u0000b' }), {
        redirect: 'manual',
      });
      assert.equal(start.status, 400);

      const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
      const proxied = await call(server, 'POST', '/unified/proxy', {
        key,
        headers: { 'x-account-id': 'acc_x' },
        body: `{"path":"/x","method":"post","body":${deep}}`,
      });
      assert.equal(proxied.status, 400, JSON.stringify(proxied.body));
      assert.match(proxied.body.message, /nested more than 64 levels/);

      const stored = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: 'o', origin_owner_name: 'O', metadata: { note: 'nul \u0000 inside' } },
      });
      assert.equal(stored.status, 400, JSON.stringify(stored.body));
      assert.equal((await call(server, 'GET', '/health/ready')).status, 200);
      assert.doesNotMatch(server.logs(), /unhandled error/);
    });

    test('the OAuth callback refuses once the session has expired, and links nothing', async () => {
      const session = await createSession(server, key, { origin_owner_id: 'late', provider: 'hubspot' });
      const toProvider = await location(startUrl(session.token));
      assert.equal(toProvider.status, 302, toProvider.body);
      const toCallback = await location(toProvider.location!);
      await server.database.db
        .updateTable('connect_sessions')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', session.id as never)
        .execute();
      const back = new URL((await location(toCallback.location!)).location!);
      assert.equal(back.searchParams.get('status'), 'error');
      assert.equal(back.searchParams.get('error'), 'session_expired');
      assert.deepEqual(await accountsOf('late'), []);
    });

    test('the flow is bound to the browser that started it: another browser is refused', async () => {
      const session = await createSession(server, key, { origin_owner_id: 'victim', provider: 'hubspot' });
      const attempt = await hubCall(server, session.token, 'POST', '/hub/connection_attempts', {
        token: session.token,
      });
      // The token holder starts the flow in their browser…
      const attacker: CookieJar = new Map();
      const toProvider = await location(
        startUrl(session.token, { connection_attempt_id: attempt.body.id }),
        attacker,
      );
      const cookie = [...(attacker.get(new URL(server.url).origin) ?? new Map()).keys()];
      assert.equal(cookie.length, 1, 'one binding cookie was set');
      // …and sends the provider's authorize link to someone else, whose browser completes the grant.
      const victim: CookieJar = new Map();
      const toCallback = await location(toProvider.location!, victim);
      const refused = await location(toCallback.location!, victim);
      assert.equal(refused.status, 400, refused.body);
      assert.match(refused.body, /started in another browser/);
      assert.deepEqual(await accountsOf('victim'), []);
      const polled = await hubCall(
        server,
        session.token,
        'GET',
        `/hub/connection_attempts/${attempt.body.id}`,
      );
      assert.equal(polled.body.status, 'error');
      assert.equal(polled.body.error.code, 'browser_mismatch');
      // The real callback cannot be replayed afterwards either, even by the starting browser.
      assert.equal((await location(toCallback.location!, attacker)).status, 400);
    });

    test('the binding cookie is HttpOnly, scoped to the OAuth paths and short-lived', async () => {
      const session = await createSession(server, key, { origin_owner_id: 'cookie', provider: 'hubspot' });
      const res = await fetch(startUrl(session.token), { redirect: 'manual' });
      const [setCookie] = res.headers.getSetCookie();
      assert.match(setCookie ?? '', /^pb_oauth_[0-9a-f]{16}=[\w-]{40,};/);
      assert.match(setCookie!, /; Path=\/connect\/oauth2;/);
      assert.match(setCookie!, /; HttpOnly/);
      assert.match(setCookie!, /; SameSite=Lax/);
      assert.match(setCookie!, /; Max-Age=900/);
    });

    test("a hub popup's attempt records its provider and integration when the flow starts", async () => {
      const session = await createSession(server, key, { origin_owner_id: 'popup-owner' });
      const attempt = await hubCall(server, session.token, 'POST', '/hub/connection_attempts', {
        token: session.token,
      });
      const toProvider = await location(startUrl(session.token, { connection_attempt_id: attempt.body.id }));
      assert.equal(toProvider.status, 302, toProvider.body);
      const listed = await call(server, 'GET', '/connection_attempts?origin_owner_id=popup-owner', { key });
      assert.equal(listed.body[0].id, attempt.body.id);
      assert.equal(listed.body[0].provider, 'hubspot');
      assert.equal(listed.body[0].integration_id, hubspot);
    });

    test('an API-key connect the provider refuses is a failed attempt with its reason', async () => {
      const session = await createSession(server, key, { origin_owner_id: 'refused', provider: 'attio' });
      const res = await hubCall(server, session.token, 'POST', '/hub/accounts', {
        integration_id: attio,
        credentials: { access_token: 'bad-token-0123456789' },
      });
      assert.equal(res.status, 400);
      const listed = await call(server, 'GET', '/connection_attempts?origin_owner_id=refused', { key });
      assert.equal(listed.body.length, 1);
      const [attempt] = listed.body;
      assert.equal(attempt.status, 'error');
      assert.equal(attempt.provider, 'attio');
      assert.equal(attempt.integration_id, attio);
      assert.equal(attempt.error.code, 'validation_failed');
      assert.match(attempt.error.description, /rejected these credentials/);
      const [event] = await server.database.db
        .selectFrom('webhook_events')
        .selectAll()
        .where('type', '=', 'connection_attempt.failed')
        .where('payload', '@>', JSON.stringify({ connection_attempt_id: attempt.id }) as never)
        .execute();
      assert.ok(event, 'connection_attempt.failed is in the outbox');
      assert.equal(event.payload.provider, 'attio');
      assert.equal(event.payload.integration_id, attio);
      assert.equal(event.payload.origin_owner_id, 'refused');
    });
  });
}
