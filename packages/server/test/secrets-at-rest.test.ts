import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openVault } from '../src/crypto/vault.ts';
import { rotateKey } from '../src/services/key-rotation.ts';
import { backends } from './support/backends.ts';
import {
  connectAttio,
  createSession,
  enableAttio,
  hubCall,
  startAcceptingProvider,
} from './support/connect.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { filesContaining } from './support/files.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

const SECRET = `good-${randomBytes(12).toString('hex')}`;
const CLIENT_SECRET = `client-secret-${randomBytes(12).toString('hex')}`;

for (const backend of backends()) {
  describe(`secrets at rest and in logs (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    let key: string;
    let integration: string;
    let account: string;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-secrets-'));

    before(async () => {
      provider = await startAcceptingProvider();
      server = await startTestServer(backend, LOOPBACK_PROVIDERS, { pgliteDir: dataDir });
      key = (await server.newProject()).api_key;
      integration = await enableAttio(server, key, provider);
      await call(server, 'POST', '/auth_configs', {
        key,
        body: { connector_key: 'hubspot', oauth: { client_id: 'cid', client_secret: CLIENT_SECRET } },
      });
      account = await connectAttio(server, key, integration, {}, SECRET);
    });
    after(async () => {
      await server.close().catch(() => {});
      await provider.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('credentials and OAuth client secrets are encrypted in the database', async () => {
      const accounts = await server.database.db.selectFrom('linked_accounts').selectAll().execute();
      const integrations = await server.database.db.selectFrom('integrations').selectAll().execute();
      const dump = JSON.stringify({ accounts, integrations });
      assert.ok(!dump.includes(SECRET));
      assert.ok(!dump.includes(CLIENT_SECRET));
      assert.match(accounts[0]!.credentials_enc ?? '', /^v1\./);
    });

    test('list and get responses never carry secrets; the auth config never echoes its client secret', async () => {
      const bodies = await Promise.all([
        call(server, 'GET', '/accounts', { key }),
        call(server, 'GET', `/accounts/${account}`, { key }),
        call(server, 'GET', '/auth_configs', { key }),
      ]);
      for (const res of bodies) {
        const text = JSON.stringify(res.body);
        assert.ok(!text.includes(SECRET) && !text.includes(CLIENT_SECRET), text);
      }
    });

    test('key rotation re-encrypts every row with the new key and everything stays readable', async () => {
      const vault = await openVault(server.database.db, randomBytes(32)).catch((e) => e);
      assert.ok(vault instanceof Error, 'a wrong master key cannot open the key ring');
      const result = await rotateKey(server.database.db, server.vault, { batchSize: 1 });
      assert.equal(result.version, 2);
      assert.equal(result.accounts, 1);
      assert.equal(result.integrations, 1);
      const rows = await server.database.db
        .selectFrom('linked_accounts')
        .select(['credentials_enc', 'key_version'])
        .execute();
      assert.ok(rows.every((r) => r.key_version === 2 && r.credentials_enc?.startsWith('v2.')));
      const creds = await call(server, 'GET', `/accounts/${account}/credentials`, { key });
      assert.equal(creds.body.credentials.access_token, SECRET);
      // A connect after rotation encrypts with the new key.
      const second = await connectAttio(
        server,
        key,
        integration,
        { origin_owner_id: 'after' },
        `${SECRET}-2`,
      );
      const row = await server.database.db
        .selectFrom('linked_accounts')
        .select('credentials_enc')
        .where('id', '=', second)
        .executeTakeFirstOrThrow();
      assert.match(row.credentials_enc ?? '', /^v2\./);
    });

    test('no token, key or secret appears in the logs', async () => {
      const { token } = await createSession(server, key);
      await hubCall(server, token, 'GET', '/hub/settings');
      await fetch(`${server.url}/connect/oauth2/x?token=${token}&redirect_uri=y`);
      const logs = server.logs();
      assert.ok(logs.length > 0);
      for (const needle of [SECRET, CLIENT_SECRET, key, token])
        assert.ok(!logs.includes(needle), `leaked ${needle.slice(0, 6)}`);
    });

    test('the PGlite data files hold no secret in clear', { skip: backend !== 'pglite' }, async () => {
      await server.close();
      for (const needle of [SECRET, CLIENT_SECRET, key])
        assert.deepEqual(filesContaining(dataDir, needle), []);
    });
  });

  describe(`credential checks against a slow or broken provider (${backend})`, () => {
    let server: TestServer;
    let slow: FakeProvider;
    before(async () => {
      slow = await startFakeProvider(async (req) => {
        if (req.url.startsWith('/down')) return { status: 503, body: 'maintenance' };
        await new Promise((r) => setTimeout(r, 2000));
        return { status: 200, body: {} };
      });
      server = await startTestServer(backend, {
        ...LOOPBACK_PROVIDERS,
        PLUGBOARD_PROVIDER_TIMEOUT_MS: '200',
      });
    });
    after(async () => {
      await server.close();
      await slow.close();
    });

    test('a provider that does not answer in time gives 504; one that fails gives 502; nothing is stored', async () => {
      const key = (await server.newProject()).api_key;
      for (const [base, status] of [
        [slow.url, 504],
        [`${slow.url}/down`, 502],
      ] as const) {
        const cfg = await call(server, 'POST', '/auth_configs', {
          key,
          body: { connector_key: 'attio', urls: { api_base_url: base } },
        });
        const { token } = await createSession(server, key, { integration_id: cfg.body.id, multiple: true });
        const res = await hubCall(server, token, 'POST', '/hub/accounts', {
          integration_id: cfg.body.id,
          credentials: { access_token: 'good-x' },
        });
        assert.equal(res.status, status, JSON.stringify(res.body));
        assert.equal(res.body.statusCode, status);
        assert.equal(typeof res.body.provider_response, 'string');
      }
      assert.deepEqual((await call(server, 'GET', '/accounts', { key })).body, []);
    });
  });
}
