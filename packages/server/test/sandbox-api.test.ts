import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadCatalogue } from '../src/connectors/catalogue.ts';
import { enableSandbox } from '../src/sandbox/setup.ts';
import { bootstrapDefaultProject } from '../src/services/tenancy.ts';
import { backends, createTestDatabase } from './support/backends.ts';
import { createSession, hubCall } from './support/connect.ts';
import { enableSandboxConnector, sandboxOAuthFlow } from './support/sandbox.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

/**
 * The sandbox provider through Plugboard's own API, with the outbound guard closed (no
 * PLUGBOARD_PROVIDER_ALLOWED_RANGES): the hub's credential check, the proxy, the OAuth flow and the
 * refresh levers all reach the sandbox in-process.
 */
for (const backend of backends()) {
  describe(`sandbox through the API (${backend})`, () => {
    let server: TestServer;
    let key: string;
    let other: string;
    let apiKeyIntegration: string;
    let oauthIntegration: string;
    let oauthAccount: string;

    before(async () => {
      // Webhook receivers on loopback only so that an endpoint can record events; no worker runs.
      server = await startTestServer(backend, { PLUGBOARD_WEBHOOK_ALLOWED_RANGES: 'loopback' });
      assert.equal(server.config.providerAllowedRanges.length, 0, 'the outbound guard is closed');
      key = (await server.newProject()).api_key;
      other = (await server.newProject('Other')).api_key;
      apiKeyIntegration = await enableSandboxConnector(server, key, 'sandbox');
      oauthIntegration = await enableSandboxConnector(server, key, 'sandbox_oauth');
    });
    after(() => server?.close());

    test('the API-key sandbox refuses a wrong key like a provider, accepts sandbox-good', async () => {
      const { token } = await createSession(server, key, {
        origin_owner_id: 'apikey-1',
        provider: 'sandbox',
      });
      const form = await hubCall(server, token, 'GET', `/hub/connectors/${apiKeyIntegration}`);
      assert.equal(form.body.config.configFields[0].placeholder, 'sandbox-good');
      assert.match(form.body.config.configNotices.join(' '), /sandbox-good/);

      const refused = await hubCall(server, token, 'POST', '/hub/accounts', {
        integration_id: apiKeyIntegration,
        credentials: { api_key: 'not-the-key' },
      });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.message, /Sandbox rejected these credentials \(HTTP 401\)/);
      assert.match(refused.body.provider_response, /invalid_api_key/);

      const ok = await hubCall(server, token, 'POST', '/hub/accounts', {
        integration_id: apiKeyIntegration,
        credentials: { api_key: 'sandbox-good' },
      });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.equal(ok.body.provider, 'sandbox');
    });

    test('the proxy reaches the sandbox API as the account', async () => {
      const [account] = (await call(server, 'GET', '/accounts?origin_owner_id=apikey-1', { key })).body;
      const proxy = (body: unknown) =>
        call(server, 'POST', '/unified/proxy', { key, body, headers: { 'x-account-id': account.id } });
      const employees = await proxy({ path: '/employees' });
      assert.equal(employees.status, 200, JSON.stringify(employees.body));
      assert.equal(employees.body.data.length, 25);
      assert.equal(employees.body.page, 1);
      const one = await proxy({ path: `/employees/${employees.body.data[0].id}` });
      assert.deepEqual(one.body, employees.body.data[0]);
      const write = await proxy({ path: '/employees', method: 'POST', body: { name: 'x' } });
      assert.equal(write.status, 405, 'the provider’s 4xx passes through');
      assert.match(write.body.provider_response, /read-only/);
      const elsewhere = await call(server, 'POST', '/unified/proxy', {
        key: other,
        body: { path: '/employees' },
        headers: { 'x-account-id': account.id },
      });
      assert.equal(elsewhere.status, 404, 'another project cannot use the account');
    });

    test('sandbox_oauth: consent page, Allow links an account whose token works in the proxy', async () => {
      const finish = await sandboxOAuthFlow(server, key, oauthIntegration, { origin_owner_id: 'oauth-1' });
      assert.equal(finish.searchParams.get('status'), 'success', finish.toString());
      oauthAccount = finish.searchParams.get('account_id')!;
      const account = (await call(server, 'GET', `/accounts/${oauthAccount}`, { key })).body;
      assert.equal(account.provider, 'sandbox_oauth');
      assert.equal(account.status, 'active');
      const creds = (await call(server, 'GET', `/accounts/${oauthAccount}/credentials`, { key })).body;
      assert.match(creds.credentials.access_token, /^sbx_at_/);
      assert.match(creds.credentials.refresh_token, /^sbx_rt_/);
      const me = await call(server, 'POST', '/unified/proxy', {
        key,
        body: { path: '/me' },
        headers: { 'x-account-id': oauthAccount },
      });
      assert.equal(me.status, 200, JSON.stringify(me.body));
      assert.equal(me.body.authenticated_with, 'oauth2');
    });

    test('sandbox_oauth: Deny ends the attempt with access_denied and links nothing', async () => {
      const finish = await sandboxOAuthFlow(
        server,
        key,
        oauthIntegration,
        { origin_owner_id: 'oauth-deny' },
        'deny',
      );
      assert.equal(finish.searchParams.get('status'), 'error');
      assert.equal(finish.searchParams.get('error'), 'access_denied');
      assert.equal(
        (await call(server, 'GET', '/accounts?origin_owner_id=oauth-deny', { key })).body.length,
        0,
      );
      const attempts = (await call(server, 'GET', '/connection_attempts?origin_owner_id=oauth-deny', { key }))
        .body;
      assert.equal(attempts[0].status, 'error');
    });

    test('refresh levers: an outage keeps the account active, a refusal expires it, a retry recovers it', async () => {
      const hook = await call(server, 'POST', '/webhook_endpoints', {
        key,
        body: {
          url: 'http://127.0.0.1:9/hook',
          events: ['account.refresh_failed', 'account.refresh_recovered'],
        },
      });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      const lever = (name: string, body?: unknown) =>
        call(server, 'POST', `/sandbox/accounts/${oauthAccount}/${name}`, { key, body });
      const credentials = () => call(server, 'GET', `/accounts/${oauthAccount}/credentials`, { key });
      const account = async () => (await call(server, 'GET', `/accounts/${oauthAccount}`, { key })).body;
      const before = (await credentials()).body;

      // An outage (503 from the sandbox): retried later, the account stays active, no event.
      const outage = await lever('fail_next_refresh', { error: 'temporarily_unavailable' });
      assert.deepEqual(outage.body, {
        account_id: oauthAccount,
        failing_refreshes: 1,
        error: 'temporarily_unavailable',
      });
      assert.equal((await lever('expire_token')).status, 200);
      const waiting = await credentials();
      assert.equal(waiting.status, 503, JSON.stringify(waiting.body));
      assert.ok(Number(waiting.headers.get('retry-after')) > 0);
      assert.equal((await account()).status, 'active');

      // A refusal (invalid_grant): the account is expired at once and says why.
      assert.equal((await lever('fail_next_refresh', { count: 1 })).body.error, 'invalid_grant');
      const refused = await call(server, 'POST', `/accounts/${oauthAccount}/refresh`, { key });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      const expired = await account();
      assert.equal(expired.status, 'expired');
      assert.equal(expired.status_reasons[0].code, 'refresh_failed');
      assert.match(expired.status_reasons[0].description, /invalid_grant/);
      assert.equal((await credentials()).status, 409, 'needs reconnecting until a retry works');

      // The sandbox kept the refresh token good: the next refresh tried works and restores the account.
      const recovered = await call(server, 'POST', `/accounts/${oauthAccount}/refresh`, { key });
      assert.equal(recovered.status, 200, JSON.stringify(recovered.body));
      const after = (await credentials()).body;
      assert.notEqual(after.credentials.refresh_token, before.credentials.refresh_token, 'rotated');
      assert.equal((await account()).status, 'active');
      const proxied = await call(server, 'POST', '/unified/proxy', {
        key,
        body: { path: '/me' },
        headers: { 'x-account-id': oauthAccount },
      });
      assert.equal(proxied.status, 200, 'the new token works');

      const deliveries = (await call(server, 'GET', `/webhook_endpoints/${hook.body.id}/deliveries`, { key }))
        .body.data as { event_type: string }[];
      assert.deepEqual(deliveries.map((d) => d.event_type).sort(), [
        'account.refresh_failed',
        'account.refresh_recovered',
      ]);
    });

    test('levers: only for the project’s own sandbox_oauth accounts', async () => {
      const lever = (id: string, k = key) =>
        call(server, 'POST', `/sandbox/accounts/${id}/expire_token`, { key: k });
      assert.equal((await lever(oauthAccount, other)).status, 404, "another project's key");
      assert.equal((await lever('acc_nope')).status, 404);
      const [apiKeyAccount] = (await call(server, 'GET', '/accounts?origin_owner_id=apikey-1', { key })).body;
      const refused = await lever(apiKeyAccount.id);
      assert.equal(refused.status, 422);
      assert.match(refused.body.message, /API key/);
      assert.equal(
        (await call(server, 'POST', `/sandbox/accounts/${oauthAccount}/expire_token`)).status,
        401,
      );
      for (const body of [{ count: 0 }, { error: 'server_error' }]) {
        const bad = await call(server, 'POST', `/sandbox/accounts/${oauthAccount}/fail_next_refresh`, {
          key,
          body,
        });
        assert.equal(bad.status, 400, JSON.stringify(body));
      }
    });

    test('the consent page refuses a foreign client or redirect URI, and cannot be framed', async () => {
      const foreign = `${server.url}/sandbox/oauth/authorize?client_id=evil&redirect_uri=https://evil.example`;
      const page = await fetch(foreign, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 400);
      assert.match(await page.text(), /Unknown client_id/);
      assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      // A client that is not a browser gets the API's error shape instead of the page.
      const json = await fetch(foreign);
      assert.equal(json.status, 400);
      const body = (await json.json()) as { statusCode: number; message: string };
      assert.equal(body.statusCode, 400);
      assert.match(body.message, /Unknown client_id/);
      // Malformed input gets the usual 400 error body, never a 500.
      const twice = await fetch(`${server.url}/sandbox/oauth/authorize?state=a&state=b`);
      assert.equal(twice.status, 400);
      const undecided = await fetch(`${server.url}/sandbox/oauth/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_id=plugboard-sandbox',
      });
      assert.equal(undecided.status, 400);
      assert.match(((await undecided.json()) as { message: string }).message, /decision/);
    });
  });
}

describe('PLUGBOARD_SANDBOX', () => {
  test('false: the catalogue lacks both sandbox connectors and their routes are gone', async () => {
    const server = await startTestServer('pglite', { PLUGBOARD_SANDBOX: 'false' });
    try {
      const { api_key: key } = await server.newProject();
      const meta = (await call(server, 'GET', '/connectors/meta', { key })).body as { provider: string }[];
      assert.ok(meta.length > 30);
      assert.ok(!meta.some((c) => c.provider.startsWith('sandbox')));
      const add = await call(server, 'POST', '/auth_configs', { key, body: { connector_key: 'sandbox' } });
      assert.equal(add.status, 400);
      assert.match(add.body.message, /Unknown connector "sandbox"/);
      assert.equal((await fetch(`${server.url}/sandbox/oauth/authorize`)).status, 404);
    } finally {
      await server.close();
    }
  });

  test('first start enables both sandbox connectors in the default project, in its transaction', async () => {
    const database = await createTestDatabase('pglite');
    try {
      const catalogue = loadCatalogue();
      const created = await bootstrapDefaultProject(database.db, undefined, (tx, id) =>
        enableSandbox(tx, id, catalogue),
      );
      assert.ok(created);
      const rows = await database.db
        .selectFrom('integrations')
        .select(['connector_key', 'project_id', 'active', 'oauth_client_id'])
        .orderBy('connector_key')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.connector_key, r.project_id, r.active, r.oauth_client_id]),
        [
          ['sandbox', created.project_id, true, null],
          ['sandbox_oauth', created.project_id, true, null],
        ],
      );
      assert.equal(await bootstrapDefaultProject(database.db, undefined), undefined, 'only once');
    } finally {
      await database.close();
    }
  });
});
