import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import {
  connectAttio,
  createSession,
  enableAttio,
  hubCall,
  startAcceptingProvider,
} from './support/connect.ts';
import type { FakeProvider } from './support/fake-provider.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

/** Another project's key or session sees 404 (or 401 for tokens) on every route — never data. */
for (const backend of backends()) {
  describe(`tenant isolation of accounts, auth configs and the hub (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    let keyA: string;
    let keyB: string;
    let integrationA: string;
    let accountA: string;

    before(async () => {
      provider = await startAcceptingProvider();
      server = await startTestServer(backend, LOOPBACK_PROVIDERS);
      keyA = (await server.newProject('A')).api_key;
      keyB = (await server.newProject('B')).api_key;
      integrationA = await enableAttio(server, keyA, provider);
      await enableAttio(server, keyB, provider);
      accountA = await connectAttio(server, keyA, integrationA);
    });
    after(async () => {
      await server.close();
      await provider.close();
    });

    test('platform routes: project B gets 404 for project A ids', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', `/accounts/${accountA}`],
        ['PATCH', `/accounts/${accountA}`, { label: 'stolen' }],
        ['GET', `/accounts/${accountA}/meta`],
        ['GET', `/accounts/${accountA}/credentials`],
        ['DELETE', `/accounts/${accountA}`],
        ['GET', `/auth_configs/${integrationA}`],
        ['PATCH', `/auth_configs/${integrationA}`, { name: 'stolen' }],
        ['DELETE', `/auth_configs/${integrationA}`],
      ];
      for (const [method, path, body] of routes) {
        const res = await call(server, method, path, { key: keyB, body });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.statusCode, 404);
        assert.ok(!JSON.stringify(res.body).includes('good-token'), 'no data in the error');
      }
      const unknown = await call(server, 'GET', '/accounts/acc_doesnotexist', { key: keyB });
      assert.equal(unknown.status, 404);
      assert.equal(
        unknown.body.message.replace('acc_doesnotexist', 'X'),
        (await call(server, 'GET', `/accounts/${accountA}`, { key: keyB })).body.message.replace(
          accountA,
          'X',
        ),
        'not yours reads exactly like unknown',
      );
      const listB = await call(server, 'GET', '/accounts', { key: keyB });
      assert.deepEqual(listB.body, []);
      const configsB = await call(server, 'GET', '/auth_configs', { key: keyB });
      assert.ok(configsB.body.data.every((c: { id: string }) => c.id !== integrationA));
      // A still has everything.
      assert.equal((await call(server, 'GET', `/accounts/${accountA}`, { key: keyA })).status, 200);
      assert.equal((await call(server, 'GET', `/auth_configs/${integrationA}`, { key: keyA })).status, 200);
    });

    test("hub: project B's session cannot use A's integration or see A's account", async () => {
      const { token } = await createSession(server, keyB, { provider: 'attio' });
      const list = await hubCall(server, token, 'GET', '/hub/connectors');
      assert.ok(
        list.body.integrations.every((i: { integration_id: string }) => i.integration_id !== integrationA),
      );
      assert.equal((await hubCall(server, token, 'GET', `/hub/connectors/${integrationA}`)).status, 404);
      const post = await hubCall(server, token, 'POST', '/hub/accounts', {
        integration_id: integrationA,
        credentials: { access_token: 'good-b' },
      });
      assert.equal(post.status, 404);
      assert.equal((await hubCall(server, token, 'GET', `/hub/accounts/${accountA}`)).status, 404);
      const patch = await hubCall(server, token, 'PATCH', `/hub/accounts/${accountA}`, {
        integration_id: integrationA,
        credentials: { access_token: 'good-b' },
      });
      assert.equal(patch.status, 404);
      // A session of A for another owner cannot read this owner's account either.
      const other = await createSession(server, keyA, { origin_owner_id: 'someone-else', provider: 'attio' });
      assert.equal((await hubCall(server, other.token, 'GET', `/hub/accounts/${accountA}`)).status, 404);
    });

    test("project B cannot create a session that points at A's account or auth config", async () => {
      const body = { origin_owner_id: 'o', origin_owner_name: 'O' };
      const byAccount = await call(server, 'POST', '/connect_sessions', {
        key: keyB,
        body: { ...body, account_id: accountA },
      });
      assert.equal(byAccount.status, 404);
      const byIntegration = await call(server, 'POST', '/connect_sessions', {
        key: keyB,
        body: { ...body, integration_id: integrationA },
      });
      assert.equal(byIntegration.status, 404);
      const unknownProvider = await call(server, 'POST', '/connect_sessions', {
        key: keyB,
        body: { ...body, provider: 'nope' },
      });
      assert.equal(unknownProvider.status, 400);
      assert.match(unknownProvider.body.message, /Unknown provider "nope"/);
    });

    test('every hub route answers 401 to a missing, unknown, expired or revoked token', async () => {
      const expired = await createSession(server, keyA, { expires_in: 1 });
      await server.database.db
        .updateTable('connect_sessions')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', expired.id as never)
        .execute();
      const revoked = await createSession(server, keyA);
      await call(server, 'DELETE', `/connect_sessions/${revoked.id}`, { key: keyA });
      const paths: Array<[string, string]> = [
        ['GET', '/hub/settings'],
        ['GET', '/hub/connectors'],
        ['GET', `/hub/connectors/${integrationA}`],
        ['POST', '/hub/accounts'],
        ['GET', `/hub/accounts/${accountA}`],
        ['PATCH', `/hub/accounts/${accountA}`],
      ];
      for (const token of [undefined, 'pbcs_unknown', expired.token, revoked.token, keyA]) {
        for (const [method, path] of paths) {
          const headers: Record<string, string> = token ? { 'x-hub-session-token': token } : {};
          const res = await call(server, method, path, { headers, body: method === 'GET' ? undefined : {} });
          assert.equal(res.status, 401, `${method} ${path} with ${token?.slice(0, 8)}`);
          assert.equal(res.body.statusCode, 401);
        }
      }
    });

    test('CORS preflights on /hub/* succeed without a token', async () => {
      const res = await fetch(`${server.url}/hub/accounts/${accountA}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.test',
          'access-control-request-method': 'PATCH',
          'access-control-request-headers': 'content-type,x-hub-session-token,x-hub-version',
        },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.test');
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /PATCH/);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /x-hub-session-token/);
    });
  });
}
