import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import Provider from 'oidc-provider';
import { createSession } from './support/connect.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { call, freePort, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

/**
 * A strict authorization server (oidc-provider): PKCE required, login and consent screens, refresh
 * tokens rotated on every use. Driven over HTTP like a browser would, cookies included.
 */
async function signInThrough(startUrl: string, stopAt: (url: URL) => boolean): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = new URL(startUrl);
  let init: RequestInit = {};
  for (let hop = 0; hop < 25; hop++) {
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const raw of res.headers.getSetCookie()) {
      const [pair] = raw.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url);
      init = {};
      if (stopAt(url)) return url;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`unexpected page at ${url}: ${res.status} ${html.slice(0, 200)}`);
    const form = new URLSearchParams({ prompt });
    if (prompt === 'login') {
      form.set('login', 'ada');
      form.set('password', 'any');
    }
    url = new URL(action.replace(/&amp;/g, '&'), url);
    init = {
      method: 'POST',
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };
  }
  throw new Error('too many hops');
}

describe('OAuth2 against a strict oidc-provider (pglite)', () => {
  let server: TestServer;
  let idp: Server;
  let api: FakeProvider;
  let issuer: string;
  let key: string;
  let integration: string;
  const grants: string[] = [];

  before(async () => {
    server = await startTestServer('pglite', LOOPBACK_PROVIDERS);
    api = await startFakeProvider(() => ({ status: 200, body: {} }));
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'plugboard',
          client_secret: 'plugboard-secret-0123456789',
          redirect_uris: [`${server.url}/connect/oauth2/callback`],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      pkce: { required: () => true },
      scopes: ['openid', 'offline_access'],
      issueRefreshToken: async () => true,
      rotateRefreshToken: () => true,
      features: { devInteractions: { enabled: true } },
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
      cookies: { keys: ['plugboard-test-cookie-key'] },
    });
    provider.on('grant.success', (ctx) => grants.push(String(ctx.oidc.params?.grant_type)));
    idp = createServer(provider.callback());
    await new Promise<void>((resolve) => idp.listen(port, '127.0.0.1', resolve));
    key = (await server.newProject()).api_key;
    const cfg = await call(server, 'POST', '/auth_configs', {
      key,
      body: {
        connector_key: 'hubspot',
        oauth: { client_id: 'plugboard', client_secret: 'plugboard-secret-0123456789', scopes: ['openid'] },
        urls: { authorization_url: `${issuer}/auth`, token_url: `${issuer}/token`, api_base_url: api.url },
      },
    });
    assert.equal(cfg.status, 201, JSON.stringify(cfg.body));
    integration = cfg.body.id;
  });
  after(async () => {
    await server.close();
    await new Promise((resolve) => idp.close(resolve));
    await api.close();
  });

  test('login, consent, code exchange with PKCE, then rotating refresh tokens', async () => {
    const session = await createSession(server, key, { origin_owner_id: 'oidc', provider: 'hubspot' });
    const start = new URL(`${server.url}/connect/oauth2/${integration}`);
    start.searchParams.set('redirect_uri', `${server.url}/embedded/accounts/callback`);
    start.searchParams.set('token', session.token);
    const done = await signInThrough(start.toString(), (u) => u.pathname === '/embedded/accounts/callback');
    assert.equal(
      done.searchParams.get('status'),
      'success',
      done.searchParams.get('error_description') ?? '',
    );
    assert.deepEqual(grants, ['authorization_code']);
    const id = done.searchParams.get('account_id')!;

    const first = (await call(server, 'GET', `/accounts/${id}/credentials`, { key })).body.credentials;
    for (let round = 0; round < 2; round++) {
      await server.database.db
        .updateTable('linked_accounts')
        .set({ token_expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', id)
        .execute();
      const res = await call(server, 'GET', `/accounts/${id}/credentials`, { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const last = (await call(server, 'GET', `/accounts/${id}/credentials`, { key })).body.credentials;
    assert.deepEqual(grants, ['authorization_code', 'refresh_token', 'refresh_token']);
    assert.notEqual(last.refresh_token, first.refresh_token, 'the rotated refresh token was stored and used');
    assert.notEqual(last.access_token, first.access_token);
  });

  test('the provider refuses an authorization without PKCE (it is required), so Plugboard always sends it', async () => {
    const res = await fetch(
      `${issuer}/auth?client_id=plugboard&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(`${server.url}/connect/oauth2/callback`)}`,
      { redirect: 'manual' },
    );
    const location = new URL(res.headers.get('location') ?? '', issuer);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
  });
});
