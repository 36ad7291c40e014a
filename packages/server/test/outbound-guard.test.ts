import assert from 'node:assert/strict';
import dns from 'node:dns';
import { after, afterEach, before, describe, mock, test } from 'node:test';
import type { OAuth2Server } from 'oauth2-mock-server';
import { backends } from './support/backends.ts';
import { createSession, hubCall } from './support/connect.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { location, startMockAuthServer } from './support/oauth.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

/**
 * Issue 9, hole 1: a tenant's URLs (auth config overrides, setup values filling templates) must never
 * make Plugboard call into the operator's network and hand back the answer. Refused when configured
 * (400 naming the field), and again at connect time inside the DNS lookup, for every kind of call.
 */
const REBIND_HOST = 'rebind.example.test';
const isRebindHost = (host: string) => host === REBIND_HOST || host.endsWith(`.${REBIND_HOST}`);

/**
 * Resolves REBIND_HOST (and names below it) to `address` in this process (the server under test runs in it): dns.lookup is
 * what the outbound guard calls when connecting, dns.promises.lookup what the configuration check calls.
 * No connection is ever made to a non-loopback address: the guard refuses it inside the lookup.
 */
function resolveRebindHostTo(address: string) {
  const original = dns.lookup;
  const family = address.includes(':') ? 6 : 4;
  mock.method(dns, 'lookup', (host: string, options: unknown, callback: (...args: unknown[]) => void) => {
    if (!isRebindHost(host)) return (original as (...a: unknown[]) => void)(host, options, callback);
    return callback(null, [{ address, family }]);
  });
  const originalPromise = dns.promises.lookup;
  mock.method(dns.promises, 'lookup', async (host: string, options?: unknown) =>
    isRebindHost(host)
      ? [{ address, family }]
      : (originalPromise as (...a: unknown[]) => Promise<unknown>)(host, options),
  );
}

const sneakyHosts = [
  '127.0.0.1',
  '127.1',
  '2130706433',
  '0x7f000001',
  '[::ffff:127.0.0.1]',
  '[::1]',
  '0.0.0.0',
  '169.254.169.254',
  '10.0.0.1',
  '172.16.0.1',
  '192.168.1.1',
  '[fd00::1]',
  '100.64.0.1',
  'localhost',
];

for (const backend of backends()) {
  describe(`outbound guard: providers on non-public addresses are refused (${backend})`, () => {
    let closed: TestServer;
    let key: string;
    let provider: FakeProvider;

    before(async () => {
      provider = await startFakeProvider(() => ({ status: 200, body: { secret: 'internal data' } }));
      closed = await startTestServer(backend);
      key = (await closed.newProject()).api_key;
    });
    after(async () => {
      await closed.close();
      await provider.close();
    });

    test('every spelling of a private, loopback or link-local address is refused when configured', async () => {
      for (const host of sneakyHosts) {
        for (const field of ['api_base_url', 'token_url', 'authorization_url'] as const) {
          const res = await call(closed, 'POST', '/auth_configs', {
            key,
            body: {
              connector_key: 'hubspot',
              oauth: { client_id: 'c', client_secret: 's' },
              urls: { [field]: `http://${host}:${new URL(provider.url).port}/x` },
            },
          });
          assert.equal(res.status, 400, `${field} = ${host}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.statusCode, 400);
          assert.ok(
            res.body.errors.some((e: string) => e.startsWith(`body.urls.${field}:`)),
            `the error names body.urls.${field}: ${JSON.stringify(res.body.errors)}`,
          );
          assert.match(res.body.message, /PLUGBOARD_PROVIDER_ALLOWED_RANGES|can never be reached/);
        }
      }
      assert.equal(provider.requests.length, 0, 'nothing was sent');
    });

    test('the test setups that run providers on 127.0.0.1 are refused with a clear message by default', async () => {
      const res = await call(closed, 'POST', '/auth_configs', {
        key,
        body: { connector_key: 'attio', urls: { api_base_url: provider.url } },
      });
      assert.equal(res.status, 400);
      assert.match(
        res.body.message,
        /body\.urls\.api_base_url: provider address 127\.0\.0\.1 is in the loopback range, which is blocked; set PLUGBOARD_PROVIDER_ALLOWED_RANGES=loopback/,
      );
    });

    test('an override naming an unknown {{placeholder}} is refused when configured, not a 500 later', async () => {
      const res = await call(closed, 'POST', '/auth_configs', {
        key,
        body: { connector_key: 'attio', urls: { api_base_url: 'https://api.attio.com/{{nope}}/v2' } },
      });
      assert.equal(res.status, 400);
      assert.match(res.body.errors[0], /^body\.urls\.api_base_url: uses \{\{nope\}\}/);
    });
  });

  describe(`outbound guard: a name that later resolves inward is refused at connect time (${backend})`, () => {
    // Loopback is opened (the fakes live there); the rebinding target is a private address, which
    // stays closed, so every call below must stop inside the DNS lookup, before any connection.
    let server: TestServer;
    let key: string;
    let provider: FakeProvider;
    let auth: OAuth2Server;
    let port: string;

    before(async () => {
      provider = await startFakeProvider((req) =>
        req.headers.authorization
          ? { status: 200, body: { secret: 'internal data' } }
          : { status: 401, body: {} },
      );
      auth = await startMockAuthServer();
      server = await startTestServer(backend, LOOPBACK_PROVIDERS);
      key = (await server.newProject()).api_key;
      port = new URL(provider.url).port;
    });
    afterEach(() => mock.restoreAll());
    after(async () => {
      await server.close();
      await provider.close();
      await auth.stop();
    });

    const refusedInward = (res: {
      status: number;
      body: { message?: string; provider_response?: string };
    }) => {
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.match(res.body.message ?? '', /10\.0\.0\.5\) is in the private range, which is blocked/);
      assert.ok(!JSON.stringify(res.body).includes('internal data'), 'no answer handed back');
    };

    // Each test aims at its own name: a name is only ever resolved while it points inward, so no
    // pooled connection from an earlier, allowed resolution can stand in for the lookup under test.
    test('hub credential check and proxy', async () => {
      const integration = await call(server, 'POST', '/auth_configs', {
        key,
        body: { connector_key: 'attio', urls: { api_base_url: provider.url } },
      });
      assert.equal(integration.status, 201, JSON.stringify(integration.body));
      const session = await createSession(server, key, { provider: 'attio', origin_owner_id: 'rebind' });
      const connected = await hubCall(server, session.token, 'POST', '/hub/accounts', {
        integration_id: integration.body.id,
        credentials: { access_token: 'good-token' },
      });
      assert.equal(connected.status, 201, JSON.stringify(connected.body));

      // The configuration check sees a public-looking answer; by the time of the call it points inward.
      const moved = `http://api.${REBIND_HOST}:${port}`;
      resolveRebindHostTo('93.184.216.34');
      const patched = await call(server, 'PATCH', `/auth_configs/${integration.body.id}`, {
        key,
        body: { urls: { api_base_url: moved } },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      resolveRebindHostTo('10.0.0.5');
      const sent = provider.requests.length;
      const again = await createSession(server, key, { provider: 'attio', origin_owner_id: 'rebind-2' });
      refusedInward(
        await hubCall(server, again.token, 'POST', '/hub/accounts', {
          integration_id: integration.body.id,
          credentials: { access_token: 'good-token' },
        }),
      );
      refusedInward(
        await call(server, 'POST', '/unified/proxy', {
          key,
          headers: { 'x-account-id': connected.body.id },
          body: { path: '/v2/self', method: 'delete', headers: { 'x-anything': '1' } },
        }),
      );
      assert.equal(provider.requests.length, sent, 'nothing reached any server after the name moved');
    });

    test('client-credentials connect', async () => {
      const tokenUrl = `http://cc.${REBIND_HOST}:${port}/token`;
      resolveRebindHostTo('10.0.0.5');
      const body = { connector_key: 'personio', urls: { api_base_url: provider.url, token_url: tokenUrl } };
      const refused = await call(server, 'POST', '/auth_configs', { key, body });
      // The host is fixed in the override, so the configuration check already sees where it points.
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.ok(refused.body.errors[0].startsWith('body.urls.token_url:'));
      resolveRebindHostTo('93.184.216.34');
      const accepted = await call(server, 'POST', '/auth_configs', { key, body });
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
      resolveRebindHostTo('10.0.0.5');
      const session = await createSession(server, key, { provider: 'personio', origin_owner_id: 'cc' });
      refusedInward(
        await hubCall(server, session.token, 'POST', '/hub/accounts', {
          integration_id: accepted.body.id,
          credentials: { client_id: 'id', client_secret: 'secret' },
        }),
      );
    });

    test('OAuth: code exchange, refresh and the authorize redirect', async () => {
      const authPort = new URL(auth.issuer.url!).port;
      const urls = {
        authorization_url: `${auth.issuer.url}/authorize`,
        token_url: `${auth.issuer.url}/token`,
        api_base_url: provider.url,
      };
      const integration = await call(server, 'POST', '/auth_configs', {
        key,
        body: {
          connector_key: 'hubspot',
          oauth: { client_id: 'plugboard-client', client_secret: 'plugboard-secret' },
          urls,
        },
      });
      assert.equal(integration.status, 201, JSON.stringify(integration.body));
      const startUrl = async (owner: string) => {
        const session = await createSession(server, key, { provider: 'hubspot', origin_owner_id: owner });
        const url = new URL(`${server.url}/connect/oauth2/${integration.body.id}`);
        url.searchParams.set('redirect_uri', `${server.url}/embedded/accounts/callback`);
        url.searchParams.set('token', session.token);
        return url.toString();
      };
      const throughProvider = async (owner: string) => {
        const toProvider = await location(await startUrl(owner));
        assert.equal(toProvider.status, 302, toProvider.body);
        const toCallback = await location(toProvider.location!);
        return new URL((await location(toCallback.location!)).location!);
      };
      const patchUrls = async (change: Record<string, string>) => {
        const res = await call(server, 'PATCH', `/auth_configs/${integration.body.id}`, {
          key,
          body: { urls: { ...urls, ...change } },
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      };

      const done = await throughProvider('oauth-ok');
      assert.equal(
        done.searchParams.get('status'),
        'success',
        done.searchParams.get('error_description') ?? '',
      );
      const accountId = done.searchParams.get('account_id')!;

      resolveRebindHostTo('93.184.216.34');
      await patchUrls({ token_url: `http://token.${REBIND_HOST}:${authPort}/token` });
      resolveRebindHostTo('10.0.0.5');
      const failed = await throughProvider('oauth-rebound');
      assert.equal(failed.searchParams.get('status'), 'error');
      assert.match(failed.searchParams.get('error_description') ?? '', /private range, which is blocked/);

      await server.database.db
        .updateTable('linked_accounts')
        .set({ token_expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', accountId)
        .execute();
      const refresh = await call(server, 'GET', `/accounts/${accountId}/credentials`, { key });
      assert.equal(refresh.status, 409, JSON.stringify(refresh.body));
      assert.match(refresh.body.message, /private range, which is blocked/);

      // The browser is never sent to an authorize URL that resolves inward either.
      resolveRebindHostTo('93.184.216.34');
      await patchUrls({ authorization_url: `http://authorize.${REBIND_HOST}:${authPort}/authorize` });
      resolveRebindHostTo('10.0.0.5');
      const refused = await location(await startUrl('oauth-authorize'));
      assert.equal(refused.status, 422, refused.body);
      assert.match(refused.body, /private range, which is blocked/);
    });
  });
}
