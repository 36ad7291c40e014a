import assert from 'node:assert/strict';
import { type FakeProvider, startFakeProvider } from './fake-provider.ts';
import { call, type TestServer } from './server.ts';

/** Any request whose bearer token starts with "good-" passes the fake provider's credential check. */
export function startAcceptingProvider(): Promise<FakeProvider> {
  return startFakeProvider((req) =>
    req.headers.authorization?.startsWith('Bearer good-')
      ? { status: 200, body: { ok: true } }
      : { status: 401, body: { message: 'bad token' } },
  );
}

/** Enables Attio (a bearer-token CRM connector) in the project, pointed at the fake provider. */
export async function enableAttio(server: TestServer, key: string, provider: FakeProvider): Promise<string> {
  const res = await call(server, 'POST', '/auth_configs', {
    key,
    body: { connector_key: 'attio', urls: { api_base_url: provider.url } },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

export async function createSession(server: TestServer, key: string, body: Record<string, unknown> = {}) {
  const res = await call(server, 'POST', '/connect_sessions', {
    key,
    body: { origin_owner_id: 'owner-1', origin_owner_name: 'Owner One', ...body },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: number; token: string };
}

export const hubCall = (server: TestServer, token: string, method: string, path: string, body?: unknown) =>
  call(server, method, path, { body, headers: { 'x-hub-session-token': token, 'x-hub-version': '1' } });

/** Connects an Attio account through the hub and returns its id. */
export async function connectAttio(
  server: TestServer,
  key: string,
  integrationId: string,
  session: Record<string, unknown> = {},
  secret = 'good-token-0123456789',
): Promise<string> {
  const { token } = await createSession(server, key, { provider: 'attio', ...session });
  const res = await hubCall(server, token, 'POST', '/hub/accounts', {
    integration_id: integrationId,
    credentials: { access_token: secret },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}
