import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StackOne } from '@stackone/stackone-client-ts';
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

for (const backend of backends()) {
  describe(`accounts API (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    let key: string;
    let integration: string;
    const ids: Record<string, string> = {};

    before(async () => {
      provider = await startAcceptingProvider();
      server = await startTestServer(backend, LOOPBACK_PROVIDERS);
      key = (await server.newProject()).api_key;
      integration = await enableAttio(server, key, provider);
      for (const owner of ['o1', 'o2', 'o3']) {
        ids[owner] = await connectAttio(server, key, integration, {
          origin_owner_id: owner,
          origin_owner_name: owner,
        });
      }
    });
    after(async () => {
      await server.close();
      await provider.close();
    });

    test('dedupe: same owner and provider re-opens the account unless multiple is true', async () => {
      const again = await connectAttio(server, key, integration, {
        origin_owner_id: 'o1',
        origin_owner_name: 'o1',
      });
      assert.equal(again, ids.o1);
      const extra = await connectAttio(server, key, integration, {
        origin_owner_id: 'o1',
        origin_owner_name: 'o1',
        multiple: true,
      });
      assert.notEqual(extra, ids.o1);
      ids.o1b = extra;
      const { token } = await createSession(server, key, {
        origin_owner_id: 'o2',
        origin_owner_name: 'o2',
        provider: 'attio',
      });
      assert.equal((await hubCall(server, token, 'GET', '/hub/settings')).body.existing_account_id, ids.o2);
    });

    test('filters: owner(s), provider(s), status, account ids — repeated keys and the SDK', async () => {
      const byOwner = await call(server, 'GET', '/accounts?origin_owner_id=o2', { key });
      assert.deepEqual(
        byOwner.body.map((a: { id: string }) => a.id),
        [ids.o2],
      );
      const byOwners = await call(server, 'GET', '/accounts?origin_owner_ids=o2&origin_owner_ids=o3', {
        key,
      });
      assert.deepEqual(byOwners.body.map((a: { id: string }) => a.id).sort(), [ids.o2, ids.o3].sort());
      const byIds = await call(server, 'GET', `/accounts?account_ids=${ids.o3}`, { key });
      assert.deepEqual(
        byIds.body.map((a: { id: string }) => a.id),
        [ids.o3],
      );
      assert.equal((await call(server, 'GET', '/accounts?provider=bamboohr', { key })).body.length, 0);
      assert.equal(
        (await call(server, 'GET', '/accounts?providers=bamboohr&providers=attio', { key })).body.length,
        4,
      );
      assert.equal(
        (await call(server, 'GET', '/accounts?status=active&status=error', { key })).body.length,
        4,
      );
      assert.equal((await call(server, 'GET', '/accounts?status=expired', { key })).body.length, 0);

      const sdk = new StackOne({ serverURL: server.url, security: { username: key, password: '' } });
      const res = await sdk.accounts.listLinkedAccounts({
        originOwnerIds: ['o1', 'o3'],
        providers: ['attio'],
        status: ['active'],
      });
      assert.deepEqual((res.classes ?? []).map((a) => a.id).sort(), [ids.o1, ids.o1b, ids.o3].sort());
    });

    test('pagination is stable: pages do not overlap and cover everything in creation order', async () => {
      const all = (await call(server, 'GET', '/accounts?page_size=100', { key })).body.map(
        (a: { id: string }) => a.id,
      );
      assert.deepEqual(all, [ids.o1, ids.o2, ids.o3, ids.o1b]);
      const paged: string[] = [];
      for (let page = 1; page <= 3; page++) {
        const res = await call(server, 'GET', `/accounts?page_size=3&page=${page}`, { key });
        paged.push(...res.body.map((a: { id: string }) => a.id));
      }
      assert.deepEqual(paged, all);
    });

    test('PATCH updates label, metadata, owner fields; merges credentials; refuses a provider change', async () => {
      const res = await call(server, 'PATCH', `/accounts/${ids.o3}`, {
        key,
        body: {
          label: 'Renamed',
          metadata: { tier: 2 },
          origin_username: 'x@y.test',
          credentials: { access_token: 'good-new' },
        },
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.label, 'Renamed');
      assert.deepEqual(res.body.metadata, { tier: 2 });
      assert.equal(res.body.origin_username, 'x@y.test');
      assert.equal(res.body.credentials, null);
      const creds = await call(server, 'GET', `/accounts/${ids.o3}/credentials`, { key });
      assert.equal(creds.body.credentials.access_token, 'good-new');
      assert.equal(creds.headers.get('cache-control'), 'no-store');
      const sdk = new StackOne({ serverURL: server.url, security: { username: key, password: '' } });
      const viaSdk = await sdk.accounts.updateAccount({
        id: ids.o3!,
        patchAccountExternalDto: { originOwnerName: 'Owner 3' },
      });
      assert.equal(viaSdk.linkedAccount?.originOwnerName, 'Owner 3');
      assert.equal(
        viaSdk.linkedAccount?.label,
        'Renamed',
        "the SDK's object-typed label leaves the label alone",
      );
      const refused = await call(server, 'PATCH', `/accounts/${ids.o3}`, {
        key,
        body: { provider: 'hubspot' },
      });
      assert.equal(refused.status, 400);
      const meta = await call(server, 'GET', `/accounts/${ids.o3}/meta`, { key });
      assert.deepEqual(meta.body, { provider: 'attio', category: 'crm', models: {} });
    });

    test('bad input gets a 4xx in the wire shape', async () => {
      const cases: Array<[string, string, unknown, number]> = [
        ['GET', '/accounts?page_size=0', undefined, 400],
        ['GET', '/accounts?page=abc', undefined, 400],
        ['GET', '/accounts?status=bogus', undefined, 400],
        ['PATCH', `/accounts/${ids.o2}`, { unknown_field: 1 }, 400],
        ['PATCH', `/accounts/${ids.o2}`, { label: 'a\u0000b' }, 400],
        ['POST', '/auth_configs', { connector_key: 'nope' }, 400],
        ['POST', '/auth_configs', { connector_key: 'hubspot' }, 400],
        ['POST', '/auth_configs', { connector_key: 'attio', urls: { api_base_url: 'ftp://x' } }, 400],
        ['POST', '/auth_configs', { connector_key: 'attio', authentication_config_key: 'oauth9' }, 400],
        ['GET', '/auth_configs/not-a-uuid', undefined, 400],
        ['GET', '/connectors/meta/nope', undefined, 404],
      ];
      for (const [method, path, body, status] of cases) {
        const res = await call(server, method, path, { key, body });
        assert.equal(
          res.status,
          status,
          `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(res.body)}`,
        );
        assert.equal(res.body.statusCode, status);
        assert.equal(typeof res.body.message, 'string');
        assert.ok(!Number.isNaN(Date.parse(res.body.timestamp)));
      }
    });

    test('hub form validation: required, unknown and pattern problems are listed; nothing is stored', async () => {
      const bamboo = await call(server, 'POST', '/auth_configs', {
        key,
        body: { connector_key: 'bamboohr', urls: { api_base_url: provider.url } },
      });
      const { token } = await createSession(server, key, {
        origin_owner_id: 'form',
        origin_owner_name: 'Form',
      });
      const before = provider.requests.length;
      const res = await hubCall(server, token, 'POST', '/hub/accounts', {
        integration_id: bamboo.body.id,
        credentials: { subdomain: 'not a subdomain!', extra: 'x' },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.errors.length, 3, JSON.stringify(res.body.errors));
      assert.ok(res.body.errors.some((e: string) => e.includes('credentials.extra')));
      assert.ok(res.body.errors.some((e: string) => e.includes('credentials.api_key')));
      assert.ok(res.body.errors.some((e: string) => e.includes('credentials.subdomain')));
      assert.equal(provider.requests.length, before, 'no provider call for invalid input');
      assert.equal((await call(server, 'GET', '/accounts?origin_owner_id=form', { key })).body.length, 0);
      const oauth = await call(server, 'POST', '/auth_configs', {
        key,
        body: { connector_key: 'hubspot', oauth: { client_id: 'id', client_secret: 'secret' } },
      });
      const viaForm = await hubCall(server, token, 'POST', '/hub/accounts', {
        integration_id: oauth.body.id,
        credentials: {},
      });
      assert.equal(viaForm.status, 400);
      assert.match(viaForm.body.message, /OAuth/);
    });

    test('GET /connectors/meta lists the catalogue and marks enabled connectors active', async () => {
      const res = await call(server, 'GET', '/connectors/meta', { key });
      assert.ok(res.body.length >= 30);
      const attio = res.body.find((c: { provider: string }) => c.provider === 'attio');
      assert.equal(attio.active, true);
      assert.equal(attio.category, 'crm');
      const logo = await fetch(attio.resources.images.logo_url);
      assert.equal(logo.status, 200);
      assert.match(logo.headers.get('content-type') ?? '', /image\/svg\+xml/);
      const sdk = new StackOne({ serverURL: server.url, security: { username: key, password: '' } });
      const one = await sdk.connectors.getConnectorMeta({ provider: 'bamboohr' });
      assert.equal(one.connectorsMeta?.providerName, 'BambooHR');
    });

    test('deleting an auth config that accounts use is refused with 409', async () => {
      const res = await call(server, 'DELETE', `/auth_configs/${integration}`, { key });
      assert.equal(res.status, 409);
      assert.equal(res.body.statusCode, 409);
    });
  });
}
