import { OAuth2Server } from 'oauth2-mock-server';
import { call, type TestServer } from './server.ts';

/** oauth2-mock-server on 127.0.0.1: auto-approves /authorize, issues signed tokens at /token. */
export async function startMockAuthServer(): Promise<OAuth2Server> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(0, '127.0.0.1');
  return server;
}

/** HubSpot (an OAuth connector) pointed at the mock authorization server and a fake API. */
export async function enableMockHubspot(
  server: TestServer,
  key: string,
  auth: OAuth2Server,
  apiBaseUrl: string,
) {
  const base = auth.issuer.url!;
  const res = await call(server, 'POST', '/auth_configs', {
    key,
    body: {
      connector_key: 'hubspot',
      oauth: { client_id: 'plugboard-client', client_secret: 'plugboard-secret' },
      urls: { authorization_url: `${base}/authorize`, token_url: `${base}/token`, api_base_url: apiBaseUrl },
    },
  });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return res.body.id as string;
}

/** Cookies by origin, like one browser's jar (enough for the OAuth flow's browser-binding cookie). */
export type CookieJar = Map<string, Map<string, string>>;

/** The jar `location` uses unless given another: one "browser" per test file. */
export const defaultJar: CookieJar = new Map();

/**
 * Follows one redirect by hand (fetch with redirect: manual) and returns the Location, sending and
 * keeping cookies in `jar` the way a browser would (per origin; paths and expiry are ignored).
 */
export async function location(
  url: string,
  jar: CookieJar = defaultJar,
): Promise<{ status: number; location: string | null; body: string }> {
  const origin = new URL(url).origin;
  const cookies = jar.get(origin) ?? new Map<string, string>();
  const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  jar.set(origin, cookies);
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}
