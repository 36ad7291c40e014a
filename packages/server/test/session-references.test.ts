import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { connectAttio, enableAttio, startAcceptingProvider } from './support/connect.ts';
import type { FakeProvider } from './support/fake-provider.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

/**
 * integration_id and account_id must point at real things in the project, so proving that they
 * round-trip needs a real auth config and a real linked account (connected through the hub).
 */
for (const backend of backends()) {
  describe(`connect sessions that reference an auth config and an account (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    let key: string;
    let integrationId: string;
    let accountId: string;

    before(async () => {
      provider = await startAcceptingProvider();
      server = await startTestServer(backend, LOOPBACK_PROVIDERS);
      key = (await server.newProject()).api_key;
      integrationId = await enableAttio(server, key, provider);
      accountId = await connectAttio(server, key, integrationId, { origin_owner_id: 'owner-ref' });
    });
    after(async () => {
      await server.close();
      await provider.close();
    });

    test('every ConnectSessionCreate field, references included, round-trips to authenticate', async () => {
      const body = {
        origin_owner_id: 'owner-ref',
        origin_owner_name: 'Owner One',
        origin_username: 'ref@example.test',
        categories: ['crm'],
        provider: 'attio',
        provider_version: '2',
        integration_id: integrationId,
        account_id: accountId,
        label: 'CRM (edit)',
        metadata: { reconnect: true },
        type: 'test',
        multiple: false,
        expires_in: 120,
      };
      const created = await call(server, 'POST', '/connect_sessions', { key, body });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.integration_id, integrationId);
      assert.equal(created.body.account_id, accountId);

      const authed = await call(server, 'POST', '/connect_sessions/authenticate', {
        key,
        body: { token: created.body.token },
      });
      assert.equal(authed.status, 201);
      assert.deepEqual(Object.keys(authed.body).sort(), [
        'account_id',
        'allowed_origins',
        'categories',
        'created_at',
        'external_trigger_token',
        'id',
        'integration_id',
        'label',
        'latest_connection_attempt',
        'metadata',
        'organization_id',
        'origin_owner_id',
        'origin_owner_name',
        'origin_username',
        'project_id',
        'provider',
        'type',
      ]);
      assert.equal(authed.body.integration_id, integrationId);
      assert.equal(authed.body.account_id, accountId);
      assert.equal(authed.body.origin_username, 'ref@example.test');
      assert.deepEqual(authed.body.categories, ['crm']);
      assert.equal(authed.body.provider, 'attio');
      assert.equal(authed.body.label, 'CRM (edit)');
      assert.deepEqual(authed.body.metadata, { reconnect: true });
      assert.equal(authed.body.type, 'test');
      assert.equal(authed.body.latest_connection_attempt, null);

      // Fields the wire model does not return are still stored as sent.
      const row = await server.database.db
        .selectFrom('connect_sessions')
        .select(['provider_version', 'multiple', 'expires_at', 'created_at'])
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.provider_version, '2');
      assert.equal(row.multiple, false);
      assert.equal(Math.round((row.expires_at.getTime() - row.created_at.getTime()) / 1000), 120);
    });

    test('an unknown auth config or account is refused and no session is written', async () => {
      const count = async () =>
        Number(
          (
            await server.database.db
              .selectFrom('connect_sessions')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await count();
      const base = { origin_owner_id: 'o', origin_owner_name: 'O' };
      const noConfig = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { ...base, integration_id: '7d4a3f4e-0000-4000-8000-000000000001' },
      });
      assert.equal(noConfig.status, 404);
      assert.equal(noConfig.body.statusCode, 404);
      const noAccount = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { ...base, account_id: 'acc_missing' },
      });
      assert.equal(noAccount.status, 404);
      const notUuid = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { ...base, integration_id: 'not-a-uuid' },
      });
      assert.equal(notUuid.status, 400);
      assert.ok(notUuid.body.errors.some((e: string) => e.startsWith('body.integration_id:')));
      assert.equal(await count(), before, 'nothing half-written');
    });
  });
}
