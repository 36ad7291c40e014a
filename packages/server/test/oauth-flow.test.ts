import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OAuth2Server } from 'oauth2-mock-server';
import { Webhook } from 'standardwebhooks';
import { backends } from './support/backends.ts';
import { createSession, hubCall } from './support/connect.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { enableMockHubspot, location, startMockAuthServer } from './support/oauth.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

for (const backend of backends()) {
  describe(`OAuth2 authorization-code flow against oauth2-mock-server (${backend})`, () => {
    let server: TestServer;
    let auth: OAuth2Server;
    let api: FakeProvider;
    let key: string;
    let integration: string;
    let hooks: WebhookReceiver;
    let hookSecret: string;
    const tokenRequests: URLSearchParams[] = [];

    before(async () => {
      auth = await startMockAuthServer();
      auth.service.on('beforeResponse', (_res, req) =>
        tokenRequests.push(new URLSearchParams(req.body as Record<string, string>)),
      );
      api = await startFakeProvider((req) =>
        req.headers.authorization?.startsWith('Bearer ')
          ? { status: 200, body: { results: [] } }
          : { status: 401, body: {} },
      );
      hooks = await startWebhookReceiver();
      server = await startTestServer(
        backend,
        {
          ...LOOPBACK_PROVIDERS,
          PLUGBOARD_OAUTH_REDIRECT_URIS: 'com.example.desktop:/oauth-done',
          PLUGBOARD_WEBHOOK_ALLOWED_RANGES: 'loopback',
          PLUGBOARD_WEBHOOK_POLL_MS: '50',
        },
        { webhooks: true },
      );
      key = (await server.newProject()).api_key;
      integration = await enableMockHubspot(server, key, auth, api.url);
      const endpoint = await call(server, 'POST', '/webhook_endpoints', {
        key,
        body: { url: hooks.url, events: ['connection_attempt.failed'] },
      });
      hookSecret = endpoint.body.secret;
    });
    after(async () => {
      await server.close();
      await hooks.close();
      await auth.stop();
      await api.close();
    });

    const finishPage = () => `${server.url}/embedded/accounts/callback`;

    async function popupFlow(owner: string) {
      const session = await createSession(server, key, { origin_owner_id: owner, provider: 'hubspot' });
      const attempt = await hubCall(server, session.token, 'POST', '/hub/connection_attempts', {
        token: session.token,
      });
      assert.equal(attempt.status, 201);
      const start = new URL(`${server.url}/connect/oauth2/${integration}`);
      start.searchParams.set('redirect_uri', finishPage());
      start.searchParams.set('token', session.token);
      start.searchParams.set('connection_attempt_id', attempt.body.id);
      const toProvider = await location(start.toString());
      assert.equal(toProvider.status, 302, toProvider.body);
      return { session, attemptId: attempt.body.id as string, authorizeUrl: new URL(toProvider.location!) };
    }

    test('popup flow: PKCE and state to the provider, code exchanged, account created, attempt authenticated', async () => {
      const { session, attemptId, authorizeUrl } = await popupFlow('oauth-owner');
      assert.equal(authorizeUrl.origin, new URL(auth.issuer.url!).origin);
      assert.equal(authorizeUrl.searchParams.get('client_id'), 'plugboard-client');
      assert.equal(authorizeUrl.searchParams.get('redirect_uri'), `${server.url}/connect/oauth2/callback`);
      assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorizeUrl.searchParams.get('state'));
      assert.match(authorizeUrl.searchParams.get('scope') ?? '', /crm\.objects\.contacts\.read/);
      assert.equal(
        (await hubCall(server, session.token, 'GET', `/hub/connection_attempts/${attemptId}`)).body.status,
        'pending',
      );

      const toCallback = await location(authorizeUrl.toString());
      const back = await location(toCallback.location!);
      assert.equal(back.status, 302, back.body);
      const finish = new URL(back.location!);
      assert.equal(`${finish.origin}${finish.pathname}`, finishPage());
      assert.equal(
        finish.searchParams.get('status'),
        'success',
        finish.searchParams.get('error_description') ?? '',
      );
      const accountId = finish.searchParams.get('account_id')!;

      const exchange = tokenRequests.at(-1)!;
      assert.equal(exchange.get('grant_type'), 'authorization_code');
      assert.ok(exchange.get('code_verifier'), 'PKCE verifier sent');
      const polled = await hubCall(server, session.token, 'GET', `/hub/connection_attempts/${attemptId}`);
      assert.deepEqual(polled.body, {
        id: attemptId,
        status: 'authenticated',
        account: { id: accountId },
        error: null,
      });
      const creds = await call(server, 'GET', `/accounts/${accountId}/credentials`, { key });
      assert.equal(typeof creds.body.credentials.access_token, 'string');
      assert.equal(typeof creds.body.credentials.refresh_token, 'string');
      const account = await call(server, 'GET', `/accounts/${accountId}`, { key });
      assert.equal(account.body.provider, 'hubspot');
      assert.ok(!JSON.stringify(account.body).includes(creds.body.credentials.access_token));
      const authed = await call(server, 'POST', '/connect_sessions/authenticate', {
        key,
        body: { token: session.token },
      });
      assert.equal(
        authed.body.latest_connection_attempt.id,
        attemptId,
        'the session shows its latest attempt',
      );
      assert.equal(authed.body.latest_connection_attempt.status, 'authenticated');
      const listed = await call(server, 'GET', '/connection_attempts?origin_owner_id=oauth-owner', { key });
      assert.equal(listed.body[0].status, 'authenticated');
    });

    test('a replayed or tampered state fails and creates nothing', async () => {
      const { authorizeUrl } = await popupFlow('replay-owner');
      const toCallback = await location(authorizeUrl.toString());
      const callback = new URL(toCallback.location!);
      const tampered = new URL(callback);
      tampered.searchParams.set('state', `${callback.searchParams.get('state')}x`);
      assert.equal((await location(tampered.toString())).status, 400);
      assert.equal((await location(callback.toString())).status, 302, 'the genuine state works once');
      assert.equal((await location(callback.toString())).status, 400, 'and never twice');
      const accounts = await call(server, 'GET', '/accounts?origin_owner_id=replay-owner', { key });
      assert.equal(accounts.body.length, 1);
    });

    test('a foreign redirect_uri is refused before anything is sent to the provider', async () => {
      const session = await createSession(server, key, { origin_owner_id: 'foreign', provider: 'hubspot' });
      const before = tokenRequests.length;
      for (const redirect of [
        'https://evil.example.test/steal',
        `${server.url}.evil.test/embedded/accounts/callback`,
        'javascript:alert(1)',
      ]) {
        const start = new URL(`${server.url}/connect/oauth2/${integration}`);
        start.searchParams.set('redirect_uri', redirect);
        start.searchParams.set('token', session.token);
        const res = await location(start.toString());
        assert.equal(res.status, 400, redirect);
        assert.equal(res.location, null);
      }
      const noToken = await location(
        `${server.url}/connect/oauth2/${integration}?redirect_uri=${encodeURIComponent(finishPage())}`,
      );
      assert.equal(noToken.status, 401);
      assert.equal(tokenRequests.length, before);
    });

    test('a denied consent lands on the attempt as an error', async () => {
      const { session, attemptId, authorizeUrl } = await popupFlow('denied');
      const callback = new URL(`${server.url}/connect/oauth2/callback`);
      callback.searchParams.set('state', authorizeUrl.searchParams.get('state')!);
      callback.searchParams.set('error', 'access_denied');
      callback.searchParams.set('error_description', 'The user said no');
      const back = new URL((await location(callback.toString())).location!);
      assert.equal(back.searchParams.get('status'), 'error');
      assert.equal(back.searchParams.get('error'), 'access_denied');
      const polled = await hubCall(server, session.token, 'GET', `/hub/connection_attempts/${attemptId}`);
      assert.equal(polled.body.status, 'error');
      assert.deepEqual(polled.body.error, { code: 'access_denied', description: 'The user said no' });

      const received = await hooks.waitFor((r) => r.some((h) => h.json.record_id === attemptId));
      const hook = received.find((h) => h.json.record_id === attemptId);
      const event = new Webhook(hookSecret).verify(hook!.body, hook!.headers as Record<string, string>);
      assert.deepEqual(event, hook!.json);
      assert.equal(hook!.json.event, 'connection_attempt.failed');
      assert.equal(hook!.json.connect_session_id, session.id);
      assert.equal(hook!.json.origin_owner_id, 'denied');
      assert.deepEqual(hook!.json.error, { code: 'access_denied', description: 'The user said no' });
    });

    test('a token endpoint failure lands on the attempt with its code', async () => {
      const { session, attemptId, authorizeUrl } = await popupFlow('bad-code');
      auth.service.once('beforeResponse', (res) => {
        res.statusCode = 400;
        res.body = { error: 'invalid_grant', error_description: 'code expired' };
      });
      const toCallback = await location(authorizeUrl.toString());
      const back = new URL((await location(toCallback.location!)).location!);
      assert.equal(back.searchParams.get('error'), 'invalid_grant');
      const polled = await hubCall(server, session.token, 'GET', `/hub/connection_attempts/${attemptId}`);
      assert.equal(polled.body.error.code, 'invalid_grant');
    });

    test('redirect mode for native apps: no popup, no attempt id, back to the registered URI', async () => {
      const session = await createSession(server, key, { origin_owner_id: 'native', provider: 'hubspot' });
      const start = new URL(`${server.url}/connect/oauth2/${integration}`);
      start.searchParams.set('redirect_uri', 'com.example.desktop:/oauth-done');
      start.searchParams.set('token', session.token);
      const toProvider = await location(start.toString());
      const toCallback = await location(toProvider.location!);
      const back = await location(toCallback.location!);
      const done = new URL(back.location!);
      assert.equal(done.protocol, 'com.example.desktop:');
      assert.equal(done.searchParams.get('status'), 'success');
      const attemptId = done.searchParams.get('connection_attempt_id')!;
      // The app polls the attempt with its session token.
      const polled = await hubCall(server, session.token, 'GET', `/hub/connection_attempts/${attemptId}`);
      assert.equal(polled.body.status, 'authenticated');
    });

    test('client-credentials connectors connect from the form, without a popup, and renew their token', async () => {
      const cfg = await call(server, 'POST', '/auth_configs', {
        key,
        body: {
          connector_key: 'personio',
          urls: { token_url: `${auth.issuer.url}/token`, api_base_url: api.url },
        },
      });
      assert.equal(cfg.status, 201, JSON.stringify(cfg.body));
      const session = await createSession(server, key, { origin_owner_id: 'cc', provider: 'personio' });
      const form = await hubCall(server, session.token, 'GET', `/hub/connectors/${cfg.body.id}`);
      assert.equal(form.body.config.type, 'oauth2');
      assert.equal(form.body.config.grantType, 'client_credentials');
      const res = await hubCall(server, session.token, 'POST', '/hub/accounts', {
        integration_id: cfg.body.id,
        credentials: { client_id: 'customer-client', client_secret: 'customer-secret' },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const grant = tokenRequests.at(-1)!;
      assert.equal(grant.get('grant_type'), 'client_credentials');
      const creds = await call(server, 'GET', `/accounts/${res.body.id}/credentials`, { key });
      assert.equal(typeof creds.body.credentials.access_token, 'string');
      assert.equal(creds.body.credentials.client_secret, 'customer-secret');
      await server.database.db
        .updateTable('linked_accounts')
        .set({ token_expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', res.body.id)
        .execute();
      const count = tokenRequests.length;
      await call(server, 'GET', `/accounts/${res.body.id}/credentials`, { key });
      assert.equal(tokenRequests.length, count + 1);
      assert.equal(tokenRequests.at(-1)!.get('grant_type'), 'client_credentials');
    });

    test('cancelling an attempt marks it cancelled; attempts of other sessions are not visible', async () => {
      const { session, attemptId } = await popupFlow('cancel');
      assert.equal(
        (await hubCall(server, session.token, 'DELETE', `/hub/connection_attempts/${attemptId}`)).status,
        204,
      );
      assert.equal(
        (await hubCall(server, session.token, 'GET', `/hub/connection_attempts/${attemptId}`)).body.status,
        'cancelled',
      );
      const other = await createSession(server, key, { origin_owner_id: 'someone-else' });
      assert.equal(
        (await hubCall(server, other.token, 'GET', `/hub/connection_attempts/${attemptId}`)).status,
        404,
      );
    });
  });
}
