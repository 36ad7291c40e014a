import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { OAuth2Server } from 'oauth2-mock-server';
import { backends } from './support/backends.ts';
import { createSession } from './support/connect.ts';
import { ConsoleClient, operatorWithPassword } from './support/console.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { enableMockHubspot, location, startMockAuthServer } from './support/oauth.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

for (const backend of backends()) {
  describe(`refreshing an account now, from the API and the console, is audited (${backend})`, () => {
    let server: TestServer;
    let auth: OAuth2Server;
    let api: FakeProvider;
    let key: string;
    let projectId: string;
    let integration: string;
    let refreshes = 0;

    before(async () => {
      auth = await startMockAuthServer();
      auth.service.on('beforeTokenSigning', (token) => {
        token.payload.jti = randomBytes(8).toString('hex');
      });
      auth.service.on('beforeResponse', (_res, req) => {
        if ((req.body as Record<string, string>).grant_type === 'refresh_token') refreshes++;
      });
      // Any bearer token passes the credential checks of both connectors here.
      api = await startFakeProvider((req) =>
        req.headers.authorization?.startsWith('Bearer ')
          ? { status: 200, body: {} }
          : { status: 401, body: {} },
      );
      server = await startTestServer(backend, {
        LOG_LEVEL: 'silent',
        PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback',
      });
      const project = await server.newProject();
      key = project.api_key;
      projectId = project.project_id;
      integration = await enableMockHubspot(server, key, auth, api.url);
    });
    after(async () => {
      await server.close();
      await auth.stop();
      await api.close();
    });

    test('an OAuth account gets new tokens at once, from the API and from the console', async () => {
      const session = await createSession(server, key, { origin_owner_id: 'now-1', provider: 'hubspot' });
      const start = new URL(`${server.url}/connect/oauth2/${integration}`);
      start.searchParams.set('redirect_uri', `${server.url}/embedded/accounts/callback`);
      start.searchParams.set('token', session.token);
      const toProvider = await location(start.toString());
      const toCallback = await location(toProvider.location!);
      const done = new URL((await location(toCallback.location!)).location!);
      const id = done.searchParams.get('account_id')!;
      const creds = async () =>
        (await call(server, 'GET', `/accounts/${id}/credentials`, { key })).body.credentials;
      const first = await creds();

      const res = await call(server, 'POST', `/accounts/${id}/refresh`, { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'active');
      assert.equal(refreshes, 1, 'refreshed although the token was far from expiry');
      const second = await creds();
      assert.notEqual(second.access_token, first.access_token);

      const { email, password } = await operatorWithPassword(server, 'refresh@example.com');
      const client = new ConsoleClient(server);
      await client.signIn(email, password);
      const viaConsole = await client.call('POST', `/projects/${projectId}/accounts/${id}/refresh`);
      assert.equal(viaConsole.status, 200);
      assert.equal(refreshes, 2);
      const log = await client.call('GET', `/projects/${projectId}/audit_log?action=account.refreshed`);
      assert.deepEqual(
        log.body.data.map((e: { actor_type: string }) => e.actor_type),
        ['operator', 'api_key'],
      );
      assert.ok(!JSON.stringify(log.body.data).includes((await creds()).access_token), 'no token in the log');
    });
  });
}
