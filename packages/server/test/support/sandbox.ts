import assert from 'node:assert/strict';
import { location } from './oauth.ts';
import { call, type TestServer } from './server.ts';

/** Enables a sandbox connector in the project (no OAuth client needed, even for sandbox_oauth). */
export async function enableSandboxConnector(
  server: TestServer,
  key: string,
  connector: 'sandbox' | 'sandbox_oauth',
): Promise<string> {
  const res = await call(server, 'POST', '/auth_configs', { key, body: { connector_key: connector } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

/**
 * The sandbox_oauth flow as a browser would follow it, by hand: start → consent page → Allow or Deny
 * (a form post) → Plugboard's callback → the finish page URL, returned with its query.
 */
export async function sandboxOAuthFlow(
  server: TestServer,
  key: string,
  integrationId: string,
  session: Record<string, unknown>,
  decision: 'allow' | 'deny' = 'allow',
): Promise<URL> {
  const created = await call(server, 'POST', '/connect_sessions', {
    key,
    body: { origin_owner_name: 'Sandbox Co', provider: 'sandbox_oauth', ...session },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const start = new URL(`${server.url}/connect/oauth2/${integrationId}`);
  start.searchParams.set('token', created.body.token);
  start.searchParams.set('redirect_uri', `${server.url}/embedded/accounts/callback`);
  const toConsent = await location(start.toString());
  assert.equal(toConsent.status, 302, toConsent.body);
  const consent = new URL(toConsent.location!);
  assert.equal(consent.origin + consent.pathname, `${server.url}/sandbox/oauth/authorize`);
  const page = await fetch(consent);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Allow Plugboard to access your sandbox account\?/);

  const form = new URLSearchParams(consent.searchParams);
  form.set('decision', decision);
  const decided = await fetch(`${server.url}/sandbox/oauth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    redirect: 'manual',
  });
  assert.equal(decided.status, 303, await decided.text());
  const callback = await location(decided.headers.get('location')!);
  assert.equal(callback.status, 302, callback.body);
  return new URL(callback.location!);
}
