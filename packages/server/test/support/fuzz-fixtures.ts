import assert from 'node:assert/strict';
import type { OAuth2Server } from 'oauth2-mock-server';
import { createSession, enableAttio, hubCall } from './connect.ts';
import type { FakeProvider } from './fake-provider.ts';
import { enableMockHubspot, location } from './oauth.ts';
import { call, type TestServer } from './server.ts';

/** Real rows the fuzzed requests aim at, so they reach the services and not only validation. */
export interface Fixtures {
  key: string;
  otherKey: string;
  integration: string;
  oauthIntegration: string;
  sessionId: number;
  token: string;
  account: string;
  attempt: string;
  endpoint: string;
  delivery: string;
  /** The OAuth finish page, an allowed redirect_uri. */
  finishUrl: string;
  /** A started OAuth flow's state and the browser-binding cookie that goes with it. */
  state: string;
  cookie: string;
}

export interface FixtureDeps {
  server: TestServer;
  provider: FakeProvider;
  auth: OAuth2Server;
  key: string;
  otherKey: string;
}

/**
 * Makes the rows again, keeping those that still exist: fuzzed PATCH and DELETE calls change or remove
 * them, and every later request should still have live targets.
 */
export async function refreshFixtures(deps: FixtureDeps, previous?: Fixtures): Promise<Fixtures> {
  const { server, provider, auth, key, otherKey } = deps;
  const alive = async (path: string) => (await call(server, 'GET', path, { key })).status === 200;

  let endpoint = previous?.endpoint;
  if (!endpoint || !(await alive(`/webhook_endpoints/${endpoint}`))) {
    const res = await call(server, 'POST', '/webhook_endpoints', {
      key,
      body: { url: `${provider.url}/hooks` },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    endpoint = res.body.id as string;
  } else {
    await call(server, 'PATCH', `/webhook_endpoints/${endpoint}`, {
      key,
      body: { enabled: true, events: null },
    });
  }

  let integration = previous?.integration;
  if (!integration || !(await alive(`/auth_configs/${integration}`))) {
    integration = await enableAttio(server, key, provider);
  } else {
    const reset = { enabled: true, urls: { api_base_url: provider.url } };
    const res = await call(server, 'PATCH', `/auth_configs/${integration}`, { key, body: reset });
    if (res.status !== 200) integration = await enableAttio(server, key, provider);
  }

  let oauthIntegration = previous?.oauthIntegration;
  if (!oauthIntegration || !(await alive(`/auth_configs/${oauthIntegration}`))) {
    oauthIntegration = await enableMockHubspot(server, key, auth, provider.url);
  } else {
    await call(server, 'PATCH', `/auth_configs/${oauthIntegration}`, {
      key,
      body: {
        enabled: true,
        oauth: { client_id: 'plugboard-client', client_secret: 'plugboard-secret' },
        urls: {
          authorization_url: `${auth.issuer.url}/authorize`,
          token_url: `${auth.issuer.url}/token`,
          api_base_url: provider.url,
        },
      },
    });
  }

  const session = await createSession(server, key);
  const connected = await hubCall(server, session.token, 'POST', '/hub/accounts', {
    integration_id: integration,
    credentials: { access_token: 'good-token-0123456789' },
  });
  assert.equal(connected.status, 201, JSON.stringify(connected.body));
  const attempt = await hubCall(server, session.token, 'POST', '/hub/connection_attempts', {});
  assert.equal(attempt.status, 201, JSON.stringify(attempt.body));

  const deliveries = await call(server, 'GET', `/webhook_endpoints/${endpoint}/deliveries`, { key });
  assert.equal(deliveries.status, 200, JSON.stringify(deliveries.body));
  const delivery = deliveries.body.data[0]?.id ?? previous?.delivery ?? 'none';

  // Start an OAuth flow so fuzzed callbacks can carry a state that exists, with its cookie.
  const jar = new Map<string, Map<string, string>>();
  const finish = `${server.url}/embedded/accounts/callback`;
  const start = await location(
    `${server.url}/connect/oauth2/${oauthIntegration}?token=${session.token}&redirect_uri=${encodeURIComponent(finish)}`,
    jar,
  );
  assert.equal(start.status, 302, start.body);
  const state = new URL(start.location!).searchParams.get('state') ?? '';
  const cookie = [...(jar.get(new URL(server.url).origin) ?? new Map())]
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');

  return {
    key,
    otherKey,
    integration,
    oauthIntegration,
    sessionId: session.id,
    token: session.token,
    account: connected.body.id,
    attempt: attempt.body.id,
    endpoint,
    delivery,
    finishUrl: finish,
    state,
    cookie,
  };
}
