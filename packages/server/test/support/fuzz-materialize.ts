import type { Fixtures } from './fuzz-fixtures.ts';
import type { Piece, Real, Spec } from './fuzz-requests.ts';
import { percentEncode } from './fuzz-values.ts';
import type { RawRequest } from './raw-http.ts';
import type { TestServer } from './server.ts';

/**
 * From a generated request (fuzz-requests.ts, symbolic) to the bytes test/fuzz-routes.test.ts sends:
 * the route it targets among those the server registered, its path parameters, query, credentials,
 * headers and body resolved against the fixture rows of the moment, and any malformed framing.
 */

/** The /metrics bearer token the fuzzed server is started with. */
export const METRICS_TOKEN = 'fuzz-metrics-token';

export interface Route {
  method: string;
  url: string;
}

/** Every (method, path) the server registered, read from its own router. */
export function serverRoutes(server: TestServer): Route[] {
  const text = server.app.printRoutes({ commonPrefix: false });
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + m[2]!;
    stack.push(url);
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) routes.push({ method, url });
  }
  return routes;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The real id a path parameter of this route names. */
function realParam(route: string, name: string, f: Fixtures): string {
  if (name === 'delivery_id') return f.delivery;
  if (name === 'file') return 'attio.svg';
  if (name === 'provider') return 'attio';
  if (route.startsWith('/connect/oauth2/')) return f.oauthIntegration;
  if (route.startsWith('/auth_configs') || name === 'integration_id') return f.integration;
  if (route.startsWith('/connect_sessions')) return String(f.sessionId);
  if (route.startsWith('/webhook_endpoints')) return f.endpoint;
  if (route.startsWith('/hub/connection_attempts')) return f.attempt;
  return f.account;
}

function mangled(value: string, how: Real['mangle'], inUrl: boolean): string {
  switch (how) {
    case 'append':
      return `${value}x`;
    case 'truncate':
      return value.slice(0, -1);
    case 'upper':
      return value.toUpperCase();
    case 'nul':
      return inUrl ? `${value}%00` : `${value}\u0000`;
    case 'double':
      return value + value;
    case 'latin1':
      return '\xe9'.repeat(value.length);
    default:
      return value;
  }
}

function resolve(piece: Piece, f: Fixtures, inUrl: boolean, paramOf?: () => string): string {
  if (typeof piece === 'string') return piece;
  const values: Record<Real['real'], () => string> = {
    id: paramOf ?? (() => f.account),
    token: () => f.token,
    key: () => f.key,
    account: () => f.account,
    integration: () => f.integration,
    finish_url: () => f.finishUrl,
    state: () => f.state,
    attempt: () => f.attempt,
  };
  const value = mangled(values[piece.real](), piece.mangle, inUrl);
  return inUrl ? percentEncode(value).replace(/%2500/g, '%00') : value;
}

/** A valid body for the route, which the spec then mutates. */
function template(method: string, url: string, f: Fixtures, providerUrl: string): Record<string, unknown> {
  const key = `${method} ${url}`;
  const credentials = { access_token: 'good-token-0123456789' };
  const templates: Record<string, Record<string, unknown>> = {
    'POST /connect_sessions': {
      origin_owner_id: 'fuzz-owner',
      origin_owner_name: 'Fuzz',
      provider: 'attio',
      metadata: { a: 1 },
      categories: ['crm'],
      expires_in: 600,
    },
    'POST /connect_sessions/authenticate': { token: f.token },
    'POST /auth_configs': { connector_key: 'attio', urls: { api_base_url: providerUrl } },
    'PATCH /auth_configs/:id': { name: 'renamed', enabled: true, urls: { api_base_url: providerUrl } },
    'PATCH /accounts/:id': { label: 'fuzzed', metadata: { k: 'v' }, origin_owner_name: 'Fuzz' },
    'POST /webhook_endpoints': { url: `${providerUrl}/hooks`, events: ['account.created'] },
    'PATCH /webhook_endpoints/:id': { description: 'fuzzed', enabled: true },
    'POST /webhook_endpoints/:id/rotate_secret': { overlap_seconds: 10 },
    'POST /hub/accounts': { integration_id: f.integration, credentials },
    'PATCH /hub/accounts/:id': { integration_id: f.integration, credentials },
    'POST /hub/connection_attempts': { token: f.token },
    'POST /unified/proxy': { path: '/people', method: 'post', headers: { 'x-a': '1' }, body: { q: 1 } },
  };
  return templates[key] ?? {};
}

/** JSON text of `value` with the fields at `replace` paths swapped for raw JSON fragments. */
function render(value: unknown, replace: Map<string, string>, add: Array<[string, string]>, at = ''): string {
  if (replace.has(at)) return replace.get(at)!;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value).map(
      ([k, v]) => `${JSON.stringify(k)}:${render(v, replace, [], `${at}/${k}`)}`,
    );
    for (const [k, fragment] of add) entries.push(`${JSON.stringify(k)}:${fragment}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function leafPaths(value: unknown, at = ''): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [at];
  // The root itself is not replaced here: whole-body values are the `text` bodies' job.
  return [...(at ? [at] : []), ...Object.entries(value).flatMap(([k, v]) => leafPaths(v, `${at}/${k}`))];
}

const INVALID_UTF8 = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xe0, 0xa4]);

function bodyBytes(spec: Spec, route: Route, f: Fixtures, providerUrl: string): Buffer | undefined {
  const b = spec.body;
  if (b.kind === 'none') return undefined;
  if (b.kind === 'text') return Buffer.from(b.text);
  if (b.kind === 'bytes') return Buffer.from(b.bytes);
  const value = template(route.method, route.url, f, providerUrl);
  const paths = leafPaths(value);
  const replace = new Map(
    paths.length ? b.replace.map(([i, fragment]) => [paths[i % paths.length]!, fragment]) : [],
  );
  const text = Buffer.from(render(value, replace, b.add));
  if (!b.invalidUtf8) return text;
  // Invalid UTF-8 inside the first string value (or anywhere, when there is none).
  const at = text.indexOf(':"');
  const cut = at < 0 ? Math.min(1, text.length) : at + 2;
  return Buffer.concat([text.subarray(0, cut), INVALID_UTF8, text.subarray(cut)]);
}

/** The raw request a generated spec stands for, made of the rows that exist now. */
export function materialize(generated: Spec, routes: Route[], f: Fixtures, providerUrl: string): RawRequest {
  const spec: Spec = generated.deep
    ? {
        ...generated,
        method: undefined,
        rawQuery: undefined,
        credential: 'valid',
        contentType: 'application/json',
        framing: 'none',
        body:
          generated.body.kind === 'template'
            ? { ...generated.body, replace: generated.body.replace.slice(0, 1), add: [], invalidUtf8: false }
            : generated.body,
      }
    : generated;
  const known = routes[spec.route];
  const route = known ?? { method: spec.method ?? 'GET', url: `/${'x'.repeat(spec.route % 3)}/:a/*` };
  const method = spec.method ?? route.method;
  let param = 0;
  const path = route.url
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        const piece = spec.params[param++ % spec.params.length]!;
        return resolve(piece, f, true, () => realParam(route.url, segment.slice(1), f));
      }
      return segment === '*' ? spec.wildcard : segment;
    })
    .join('/');
  const pairs = spec.query.map(([k, v]) => `${k}=${resolve(v, f, true, () => f.account)}`);
  // Valid credentials of the OAuth navigations travel in the query.
  const oauthToken = spec.credential === 'near_miss' ? mangled(f.token, spec.nearMiss, true) : f.token;
  if (['valid', 'near_miss'].includes(spec.credential) && route.url === '/connect/oauth2/:integration_id')
    pairs.unshift(
      `token=${percentEncode(oauthToken).replace(/%2500/g, '%00')}`,
      `redirect_uri=${encodeURIComponent(f.finishUrl)}`,
    );
  if (spec.credential === 'valid' && route.url === '/connect/oauth2/callback')
    pairs.unshift(`state=${f.state}`, 'code=fuzz-code');
  const query = spec.rawQuery ?? (pairs.length ? `?${pairs.join('&')}` : '');
  const headers: Array<[string, string]> = [];
  const basic = (key: string) => `Basic ${b64(`${key}:`)}`;
  const hub = route.url.startsWith('/hub/') || route.url.startsWith('/connect/oauth2');
  const metrics = route.url === '/metrics';
  const credential = spec.credential === 'valid' ? (hub ? 'hub' : metrics ? 'none' : 'key') : spec.credential;
  if (credential === 'key' || credential === 'both') headers.push(['authorization', basic(f.key)]);
  if (credential === 'bearer') headers.push(['authorization', `Bearer ${f.key}`]);
  if (spec.credential === 'valid' && metrics) headers.push(['authorization', `Bearer ${METRICS_TOKEN}`]);
  if (credential === 'hub' || credential === 'both') headers.push(['x-hub-session-token', f.token]);
  if (credential === 'other_key') headers.push(['authorization', basic(f.otherKey)]);
  if (credential === 'near_miss') {
    const wrong = (value: string) => mangled(value, spec.nearMiss, false);
    if (hub) headers.push(['x-hub-session-token', wrong(f.token)]);
    else if (metrics) headers.push(['authorization', `Bearer ${wrong(METRICS_TOKEN)}`]);
    else headers.push(['authorization', `Bearer ${wrong(f.key)}`]);
  }
  if (credential === 'garbage') {
    headers.push(['authorization', spec.garbageAuth]);
    headers.push(['x-hub-session-token', spec.garbageAuth.slice(7)]);
  }
  if (route.url.startsWith('/hub/')) headers.push(['x-hub-version', '1']);
  if (route.url === '/unified/proxy') headers.push(['x-account-id', f.account]);
  if (route.url.startsWith('/connect/oauth2/callback')) headers.push(['cookie', f.cookie]);
  for (const [name, value] of spec.headers) headers.push([name, resolve(value, f, false)]);
  if (spec.contentType !== undefined) headers.push(['content-type', spec.contentType]);
  const body = bodyBytes(spec, route, f, providerUrl);
  const req: RawRequest = {
    method,
    target: `${path.startsWith('/') ? '' : '/'}${path}${query}`,
    headers,
    body,
  };
  switch (spec.framing) {
    case 'bad_header_byte':
      req.headers.push(['x-bad', 'a\u0001b\u0000c']);
      break;
    case 'te_and_cl':
      req.headers.push(['transfer-encoding', 'chunked']);
      req.body ??= Buffer.from('{}');
      break;
    case 'bad_chunk':
      req.headers.push(['transfer-encoding', 'chunked']);
      req.body = Buffer.from('zz\r\n{}\r\n0\r\n\r\n');
      req.noContentLength = true;
      break;
    case 'huge_header':
      req.headers.push(['x-big', 'x'.repeat(20_000)]);
      break;
    case 'space_in_target':
      req.target = `${req.target} x`;
      break;
  }
  return req;
}
