import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StackOne } from '@stackone/stackone-client-ts';
import { backends } from './support/backends.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

const GOOD_KEY = 'bamboo-good-key-0123456789';

/**
 * The whole API-key journey of issue 3 over real HTTP: session → hub → credential check against a
 * fake BambooHR on 127.0.0.1 → linked account seen through StackOne's SDK → re-connect → delete.
 */
for (const backend of backends()) {
  describe(`connect an API-key provider end to end (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    let key: string;
    let integrationId: string;

    before(async () => {
      provider = await startFakeProvider((req) => {
        const expected = `Basic ${Buffer.from(`${GOOD_KEY}:x`).toString('base64')}`;
        return req.headers.authorization === expected
          ? { status: 200, body: { users: [] } }
          : { status: 401, body: { error: 'Invalid API key for acme' } };
      });
      server = await startTestServer(backend, LOOPBACK_PROVIDERS);
      key = (await server.newProject()).api_key;
      const created = await call(server, 'POST', '/auth_configs', {
        key,
        body: { connector_key: 'bamboohr', urls: { api_base_url: `${provider.url}/{{subdomain}}/v1` } },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      integrationId = created.body.id;
      await call(server, 'POST', '/auth_configs', { key, body: { connector_key: 'greenhouse' } });
    });
    after(async () => {
      await server.close();
      await provider.close();
    });

    const hub = (token: string, method: string, path: string, body?: unknown) =>
      call(server, method, path, { body, headers: { 'x-hub-session-token': token, 'x-hub-version': '1' } });

    test('journey', async () => {
      const session = await call(server, 'POST', '/connect_sessions', {
        key,
        body: {
          origin_owner_id: 'cust-7',
          origin_owner_name: 'Acme',
          origin_username: 'ada@acme.test',
          categories: ['hris'],
          label: 'Acme HR',
          type: 'test',
          metadata: { plan: 'gold' },
        },
      });
      assert.equal(session.status, 201);
      const token = session.body.token as string;

      const settings = await hub(token, 'GET', '/hub/settings');
      assert.deepEqual(settings.body, { enabled_features: [] });

      // The session asks for HRIS only: Greenhouse (ATS) is enabled in the project but not offered.
      const list = await hub(token, 'GET', '/hub/connectors');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.integrations.map((i: { provider: string }) => i.provider),
        ['bamboohr'],
      );
      assert.equal(list.body.external_trigger_token, session.body.external_trigger_token);
      const item = list.body.integrations[0];
      assert.equal(item.integration_id, integrationId);
      assert.equal(item.type, 'hris');
      assert.equal(item.active, true);

      const form = await hub(token, 'GET', `/hub/connectors/${integrationId}`);
      assert.equal(form.status, 200);
      assert.equal(form.body.config.type, 'custom');
      assert.deepEqual(
        form.body.config.configFields.map((f: { key: string; secret: boolean }) => [f.key, f.secret]),
        [
          ['subdomain', false],
          ['api_key', true],
        ],
      );

      const bad = await hub(token, 'POST', '/hub/accounts', {
        integration_id: integrationId,
        credentials: { subdomain: 'acme', api_key: 'wrong-key' },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.statusCode, 400);
      assert.match(bad.body.provider_response, /Invalid API key for acme/);
      assert.equal(provider.requests.at(-1)?.url, '/acme/v1/meta/users');
      const stackone = new StackOne({ serverURL: server.url, security: { username: key, password: '' } });
      const none = await stackone.accounts.listLinkedAccounts({});
      assert.equal(none.classes?.length ?? 0, 0, 'a rejected key stores nothing');

      const good = await hub(token, 'POST', '/hub/accounts', {
        integration_id: integrationId,
        credentials: { subdomain: 'acme', api_key: GOOD_KEY },
      });
      assert.equal(good.status, 201, JSON.stringify(good.body));
      assert.equal(good.body.provider, 'bamboohr');
      const accountId = good.body.id as string;

      const listed = await stackone.accounts.listLinkedAccounts({ originOwnerId: 'cust-7' });
      const accounts = listed.classes ?? [];
      assert.equal(accounts.length, 1);
      const account = accounts[0]!;
      assert.equal(account.id, accountId);
      assert.equal(account.provider, 'bamboohr');
      assert.equal(account.providerName, 'BambooHR');
      assert.equal(account.originOwnerId, 'cust-7');
      assert.equal(account.originOwnerName, 'Acme');
      assert.equal(account.originUsername, 'ada@acme.test');
      assert.equal(account.label, 'Acme HR');
      assert.equal(account.type, 'test');
      assert.equal(account.status, 'active');
      assert.ok(account.createdAt instanceof Date);
      const raw = await call(server, 'GET', `/accounts/${accountId}`, { key });
      assert.ok(!JSON.stringify(raw.body).includes(GOOD_KEY), 'no secret in GET /accounts/{id}');
      assert.deepEqual(raw.body.setup_information, { subdomain: 'acme' });
      assert.deepEqual(raw.body.metadata, { plan: 'gold' });

      const authed = await call(server, 'POST', '/connect_sessions/authenticate', { key, body: { token } });
      assert.equal(authed.body.account_id, accountId, 'the session records the account it produced');

      const creds = await call(server, 'GET', `/accounts/${accountId}/credentials`, { key });
      assert.equal(creds.status, 200);
      assert.deepEqual(creds.body.credentials, { api_key: GOOD_KEY });

      // Re-connect through a session with account_id: edit mode, same id, masked secrets kept.
      const reconnect = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: 'cust-7', origin_owner_name: 'Acme', account_id: accountId },
      });
      const token2 = reconnect.body.token as string;
      const settings2 = await hub(token2, 'GET', '/hub/settings');
      assert.equal(settings2.body.existing_account_id, accountId);
      const edit = await hub(token2, 'GET', `/hub/accounts/${accountId}`);
      assert.equal(edit.status, 200);
      assert.equal(edit.body.secureId, accountId);
      assert.equal(edit.body.integrationId, integrationId);
      assert.deepEqual(edit.body.setupInformation, { subdomain: 'acme' });
      assert.equal(edit.body.secrets.api_key, `__secretvalue:**redacted**${GOOD_KEY.slice(-4)}`);
      const patched = await hub(token2, 'PATCH', `/hub/accounts/${accountId}`, {
        integration_id: integrationId,
        credentials: { subdomain: 'acme', api_key: edit.body.secrets.api_key },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.id, accountId);
      const after = await call(server, 'GET', `/accounts/${accountId}/credentials`, { key });
      assert.deepEqual(
        after.body.credentials,
        { api_key: GOOD_KEY },
        'the masked secret kept its stored value',
      );
      const all = await call(server, 'GET', '/accounts', { key });
      assert.equal(all.body.length, 1, 're-connect did not create a second account');

      const deleted = await stackone.accounts.deleteAccount({ id: accountId });
      assert.equal(deleted.linkedAccount?.id, accountId);
      assert.equal((await call(server, 'GET', `/accounts/${accountId}`, { key })).status, 404);
    });
  });
}
