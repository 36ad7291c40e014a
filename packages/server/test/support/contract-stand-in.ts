import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthMethod, isSecretField } from '../../src/connectors/auth-schema.ts';
import type { Connector } from '../../src/connectors/schema.ts';
import type { ContractCase, Values } from './contract-cases.ts';

/**
 * A stand-in for every provider of the catalogue on one 127.0.0.1 server. Each (connector, auth
 * method) pair lives under its own prefix, /<connector>/<method>/, followed by the host and path of
 * the real URL: https://{{subdomain}}.freshdesk.com/api/v2 becomes
 * http://127.0.0.1:PORT/freshdesk/api_key/{{subdomain}}.freshdesk.com/api/v2. The override keeps the
 * connector's own placeholders, so Plugboard still fills them, and the stand-in sees whether the
 * subdomain, tenant or region landed where the real provider would need it.
 *
 * The stand-in derives what it expects from the connector file alone (independently of Plugboard's
 * code): the check request, where each credential goes, the OAuth endpoints, client authentication,
 * PKCE and scopes. Anything else is refused with a message saying what differed.
 */

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_-]+)\s*\}\}/g;

/** The connector's template filled the way a provider needs it (URL parts encoded). */
function fillUrl(template: string, values: Values): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    if (values[key] === undefined) throw new Error(`no value for {{${key}}} in ${template}`);
    return encodeURIComponent(values[key]);
  });
}

function fillRaw(template: string, values: Values): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    if (values[key] === undefined) throw new Error(`no value for {{${key}}} in ${template}`);
    return values[key];
  });
}

const withoutScheme = (url: string) => url.replace(/^https:\/\//, '');

export interface Overrides {
  api_base_url: string;
  authorization_url?: string;
  token_url?: string;
}

export interface TokenRequest {
  grant: string;
  params: URLSearchParams;
  authorization: string | undefined;
}

export interface RecordedCall {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

interface Contract {
  connector: Connector;
  method: AuthMethod;
  prefix: string;
  good: Values;
  oauthClient?: { client_id: string; client_secret: string };
  /** code → what the authorization request carried. */
  codes: Map<string, { challenge: string | null; redirectUri: string }>;
  issued: number;
  tokenRequests: TokenRequest[];
  calls: RecordedCall[];
}

export interface ContractStandIn {
  url: string;
  /**
   * Registers what the stand-in accepts for this pair and returns the URL overrides for its
   * integration. `oauthClient` is the project's OAuth app (authorization-code methods).
   */
  register(
    c: ContractCase,
    good: Values,
    oauthClient?: { client_id: string; client_secret: string },
  ): Overrides;
  /** Requests that reached the pair's API (check and proxy), oldest first. */
  calls(c: ContractCase): RecordedCall[];
  tokenRequests(c: ContractCase): TokenRequest[];
  /** The path (after 127.0.0.1:PORT) the connector's filled template maps to. */
  pathOf(c: ContractCase, template: string, values: Values): string;
  /** Where the connector's check must land: path and query after 127.0.0.1:PORT. */
  checkUrl(c: ContractCase, values: Values): URL;
  close(): Promise<void>;
}

export const PROBE_PATH = '/contract-probe';
/** Every refusal carries this, so a test can tell the stand-in's answer reached the caller. */
export const REFUSAL_MARK = 'contract stand-in refused';

export async function startContractStandIn(): Promise<ContractStandIn> {
  const contracts = new Map<string, Contract>();
  const prefixOf = (c: ContractCase) => `/${c.connector.key}/${c.method.key}/`;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const [, key, methodKey] = url.pathname.split('/');
      const contract = contracts.get(`/${key}/${methodKey}/`);
      if (!contract)
        return send(res, 404, { message: `${REFUSAL_MARK}: nothing registered at ${url.pathname}` });
      try {
        route(contract, req, url, Buffer.concat(chunks).toString('utf8'), res);
      } catch (err) {
        send(res, 500, { message: `stand-in error: ${(err as Error).message}` });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const pathOf = (contract: Pick<Contract, 'prefix'>, template: string, values: Values) =>
    `${contract.prefix}${withoutScheme(fillUrl(template, values))}`;

  function route(contract: Contract, req: IncomingMessage, url: URL, body: string, res: ServerResponse) {
    const { connector, method } = contract;
    const values = { ...contract.good, ...issuedToken(contract) };
    if (method.type === 'oauth2') {
      // Some providers (Egnyte) use one URL for both: the browser GETs it, the server POSTs the code.
      if (
        method.authorization_url &&
        req.method === 'GET' &&
        url.pathname === pathOf(contract, method.authorization_url, values)
      ) {
        return authorize(contract, url, res);
      }
      if (url.pathname === pathOf(contract, method.token_url, values) && req.method === 'POST') {
        return token(contract, req, body, res);
      }
    }
    contract.calls.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    const apiBase = apiBaseOf(contract, values);
    const problems = credentialProblems(contract, req, url, values);
    if (problems.length) return send(res, 401, { message: `${REFUSAL_MARK}: ${problems.join('; ')}` });

    const check = connector.check;
    if (check) {
      const expected = checkUrlOf(contract, values);
      if (url.pathname === expected.pathname && req.method === check.method) {
        const queryProblem = queryMismatch(url.searchParams, expected.searchParams, method, values);
        if (queryProblem) return send(res, 400, { message: `${REFUSAL_MARK}: ${queryProblem}` });
        if (check.body !== undefined) {
          const got = safeJson(body);
          if (JSON.stringify(got) !== JSON.stringify(check.body)) {
            return send(res, 400, { message: `${REFUSAL_MARK}: check body ${body} is not the declared one` });
          }
        }
        const status = check.expect_status?.[0] ?? 200;
        return send(res, status, { ...check.expect_json, contract: connector.key });
      }
    }
    if (url.pathname === apiBase + PROBE_PATH) {
      const queryProblem = queryMismatch(url.searchParams, new URLSearchParams(), method, values);
      if (queryProblem) return send(res, 400, { message: `${REFUSAL_MARK}: ${queryProblem}` });
      return send(res, 200, { probe: connector.key, method: req.method });
    }
    return send(res, 404, {
      message: `${REFUSAL_MARK}: no endpoint ${req.method} ${url.pathname}${check ? ` (the check is ${check.method} ${apiBase}${check.path})` : ''}`,
    });
  }

  const apiBaseOf = (contract: Pick<Contract, 'prefix' | 'connector'>, values: Values) =>
    pathOf(contract, contract.connector.api_base_url, values).replace(/\/+$/, '');
  const checkUrlOf = (contract: Pick<Contract, 'prefix' | 'connector'>, values: Values) =>
    new URL(apiBaseOf(contract, values) + fillUrl(contract.connector.check!.path, values), 'http://stand-in');

  function authorize(contract: Contract, url: URL, res: ServerResponse) {
    const redirectUri = url.searchParams.get('redirect_uri');
    if (!redirectUri)
      return send(res, 400, { error: 'invalid_request', error_description: 'no redirect_uri' });
    const code = `code-${contract.connector.key}-${contract.codes.size + 1}`;
    contract.codes.set(code, { challenge: url.searchParams.get('code_challenge'), redirectUri });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', url.searchParams.get('state') ?? '');
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  function token(contract: Contract, req: IncomingMessage, body: string, res: ServerResponse) {
    const method = contract.method as Extract<AuthMethod, { type: 'oauth2' }>;
    const params = new URLSearchParams(body);
    const grant = params.get('grant_type') ?? '';
    contract.tokenRequests.push({ grant, params, authorization: req.headers.authorization });
    const client =
      method.grant_type === 'client_credentials'
        ? { client_id: contract.good.client_id!, client_secret: contract.good.client_secret! }
        : contract.oauthClient!;
    const problems: string[] = [];
    if ((method.token_endpoint_auth ?? 'client_secret_post') === 'client_secret_basic') {
      const basic = basicCredentials(req.headers.authorization);
      if (basic?.[0] !== client.client_id || basic?.[1] !== client.client_secret)
        problems.push('client_secret_basic: wrong or missing Basic client credentials');
      if (params.has('client_secret'))
        problems.push('client_secret_basic: client_secret must not be in the body');
    } else {
      if (
        params.get('client_id') !== client.client_id ||
        params.get('client_secret') !== client.client_secret
      )
        problems.push('client_secret_post: wrong or missing client_id/client_secret in the body');
      if (req.headers.authorization) problems.push('client_secret_post: unexpected Authorization header');
    }
    if (grant !== method.grant_type) problems.push(`grant_type is "${grant}", not "${method.grant_type}"`);
    if (grant === 'authorization_code') {
      const code = contract.codes.get(params.get('code') ?? '');
      if (!code) problems.push('unknown code');
      else {
        contract.codes.delete(params.get('code')!);
        if (params.get('redirect_uri') !== code.redirectUri)
          problems.push('redirect_uri differs from the authorization request');
        const verifier = params.get('code_verifier');
        if (method.pkce === false) {
          if (verifier || code.challenge) problems.push('PKCE sent although the connector says pkce: false');
        } else if (!verifier || !code.challenge) {
          problems.push('PKCE code_verifier or code_challenge missing');
        } else if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge) {
          problems.push('code_verifier does not match the S256 code_challenge');
        }
      }
    }
    if (grant === 'client_credentials') {
      const scope = method.scopes.length ? method.scopes.join(method.scope_separator ?? ' ') : null;
      if (params.get('scope') !== scope) problems.push(`scope is ${params.get('scope')}, expected ${scope}`);
    }
    if (problems.length) {
      return send(res, 401, {
        error: 'invalid_client',
        error_description: `${REFUSAL_MARK}: ${problems.join('; ')}`,
      });
    }
    contract.issued++;
    return send(res, 200, {
      access_token: issuedToken(contract).access_token,
      token_type: 'Bearer',
      expires_in: 3600,
      ...(grant === 'authorization_code'
        ? { refresh_token: `rt-${contract.connector.key}-${contract.issued}` }
        : {}),
    });
  }

  return {
    url: base,
    register(c, good, oauthClient) {
      const prefix = prefixOf(c);
      const contract: Contract = {
        ...c,
        prefix,
        good,
        oauthClient,
        codes: new Map(),
        issued: 0,
        tokenRequests: [],
        calls: [],
      };
      contracts.set(prefix, contract);
      const override = (template: string) => `${base}${prefix}${withoutScheme(template)}`;
      return {
        api_base_url: override(c.connector.api_base_url),
        ...(c.method.type === 'oauth2'
          ? {
              token_url: override(c.method.token_url),
              ...(c.method.authorization_url
                ? { authorization_url: override(c.method.authorization_url) }
                : {}),
            }
          : {}),
      };
    },
    calls: (c) => contracts.get(prefixOf(c))?.calls ?? [],
    tokenRequests: (c) => contracts.get(prefixOf(c))?.tokenRequests ?? [],
    pathOf: (c, template, values) => pathOf({ prefix: prefixOf(c) }, template, values),
    checkUrl: (c, values) => checkUrlOf({ prefix: prefixOf(c), connector: c.connector }, values),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** OAuth methods: the last access token the stand-in issued is the one calls must carry. */
function issuedToken(contract: Contract): Values {
  if (contract.method.type !== 'oauth2') return {};
  return { access_token: `at-${contract.connector.key}-${contract.method.key}-${contract.issued}` };
}

/** Every credential exactly where the auth method's `apply` says, and no secret anywhere else. */
function credentialProblems(contract: Contract, req: IncomingMessage, url: URL, values: Values): string[] {
  const { apply } = contract.method;
  const problems: string[] = [];
  const declared = new Set<string>();
  for (const [name, template] of Object.entries(apply.headers ?? {})) {
    declared.add(name.toLowerCase());
    const want = fillRaw(template, values);
    if (req.headers[name.toLowerCase()] !== want) problems.push(`header ${name} is not "${want}"`);
  }
  for (const [name, template] of Object.entries(apply.query ?? {})) {
    const want = fillRaw(template, values);
    if (url.searchParams.get(name) !== want) problems.push(`query parameter ${name} is not "${want}"`);
  }
  if (apply.basic) {
    declared.add('authorization');
    const want = `Basic ${Buffer.from(`${fillRaw(apply.basic.username, values)}:${fillRaw(apply.basic.password, values)}`).toString('base64')}`;
    if (req.headers.authorization !== want) problems.push('basic auth is not the declared username:password');
  }
  const queryFields = new Set(
    Object.values(apply.query ?? {}).flatMap((t) => [...t.matchAll(PLACEHOLDER)].map((m) => m[1]!)),
  );
  for (const [key, secret] of secretValues(contract, values)) {
    if (!queryFields.has(key) && decodeURIComponent(url.search).includes(secret))
      problems.push(`the secret "${key}" is in the URL`);
    for (const [name, value] of Object.entries(req.headers)) {
      if (!declared.has(name) && String(value).includes(secret))
        problems.push(`the secret "${key}" is in header ${name}`);
    }
  }
  return problems;
}

function secretValues(contract: Contract, values: Values): [string, string][] {
  const secretKeys = contract.method.fields.filter(isSecretField).map((f) => f.key);
  if (contract.method.type === 'oauth2') secretKeys.push('access_token');
  return secretKeys.filter((k) => values[k]).map((k) => [k, values[k]!]);
}

/** The query must be exactly the path's own parameters plus the declared credential parameters. */
function queryMismatch(
  actual: URLSearchParams,
  fromPath: URLSearchParams,
  method: AuthMethod,
  values: Values,
): string | undefined {
  const expected = new URLSearchParams(fromPath);
  for (const [name, template] of Object.entries(method.apply.query ?? {}))
    expected.set(name, fillRaw(template, values));
  const norm = (p: URLSearchParams) => JSON.stringify([...p.entries()].sort());
  return norm(actual) === norm(expected) ? undefined : `query ${norm(actual)} is not ${norm(expected)}`;
}

/** RFC 6749 §2.3.1: the client id and secret are form-urlencoded before they are joined. */
function basicCredentials(header: string | undefined): [string, string] | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const part = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return [part(decoded.slice(0, colon)), part(decoded.slice(colon + 1))];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(status === 204 || status === 304 ? undefined : JSON.stringify(body));
}
