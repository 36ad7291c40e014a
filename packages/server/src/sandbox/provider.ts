import type { Db } from '../db/database.ts';
import type { InProcessHandler } from '../outbound/http-client.ts';
import { SANDBOX_API_KEY } from './constants.ts';
import { sandboxCompany } from './data.ts';
import { grantOfAccessToken, tokenEndpoint } from './oauth-server.ts';

/** Seed of the API-key connector's company: every `sandbox` account sees the same demo data. */
const API_KEY_SEED = 'sandbox-api-key';

interface Caller {
  auth: 'api_key' | 'oauth2';
  seed: string;
  scopes: string[];
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });

/** Errors look like a typical provider's: a code and a sentence, never Plugboard's own shape. */
const apiError = (status: number, error: string, message: string, headers: Record<string, string> = {}) =>
  json(status, { error, message }, headers);

/**
 * The sandbox provider behind https://sandbox.plugboard.internal: the token endpoint and a small
 * read-only HR/ticketing API. Every API call is authenticated, by the API key (x-api-key) of the
 * `sandbox` connector or by a bearer access token issued to `sandbox_oauth`.
 */
export function createSandboxProvider(deps: { db: Db }): InProcessHandler {
  // The caller's time limit applies as it would to a network call: a stuck query ends in a timeout.
  return (request) => Promise.race([handle(deps.db, request), aborted(request.signal)]);
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

async function handle(db: Db, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/oauth/token') {
    if (request.method !== 'POST') return apiError(405, 'method_not_allowed', 'Use POST.');
    const form = new URLSearchParams(await request.text());
    const answer = await tokenEndpoint(db, form, request.headers.get('authorization'));
    return json(answer.status, answer.body, { 'cache-control': 'no-store' });
  }
  const caller = await authenticate(db, request);
  if ('response' in caller) return caller.response;
  if (request.method !== 'GET') {
    return apiError(405, 'method_not_allowed', 'The sandbox API is read-only: use GET.', { allow: 'GET' });
  }
  return route(caller, path, url.searchParams);
}

async function authenticate(db: Db, request: Request): Promise<Caller | { response: Response }> {
  const apiKey = request.headers.get('x-api-key');
  if (apiKey !== null) {
    if (apiKey !== SANDBOX_API_KEY) {
      return {
        response: apiError(
          401,
          'invalid_api_key',
          `The sandbox does not accept this API key. Use "${SANDBOX_API_KEY}" to connect; any other key is refused, to show what a provider's refusal looks like.`,
        ),
      };
    }
    return { auth: 'api_key', seed: API_KEY_SEED, scopes: ['employees:read', 'tickets:read'] };
  }
  const header = request.headers.get('authorization') ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!bearer) {
    return {
      response: apiError(401, 'unauthorized', 'Send an x-api-key header or an OAuth bearer access token.', {
        'www-authenticate': 'Bearer realm="sandbox"',
      }),
    };
  }
  const grant = await grantOfAccessToken(db, bearer);
  if ('problem' in grant) {
    return {
      response: apiError(401, 'invalid_token', grant.problem, {
        'www-authenticate': `Bearer realm="sandbox", error="invalid_token", error_description="${grant.problem}"`,
      }),
    };
  }
  return { auth: 'oauth2', seed: grant.grantId, scopes: grant.scopes };
}

function route(caller: Caller, path: string, query: URLSearchParams): Response {
  const company = sandboxCompany(caller.seed);
  const needs = (scope: string) =>
    caller.scopes.includes(scope)
      ? undefined
      : apiError(403, 'insufficient_scope', `This token lacks the "${scope}" scope.`);
  if (path === '/') {
    // The connectors' docs_url: what this API offers, for anyone who calls it through the proxy.
    return json(200, {
      name: 'Plugboard sandbox provider',
      endpoints: ['GET /me', 'GET /employees', 'GET /employees/{id}', 'GET /tickets'],
      pagination: 'page (from 1) and page_size (1-100, default 25); answers carry total and next_page',
      tickets_filter: 'status=open|pending|solved',
    });
  }
  if (path === '/me') {
    return json(200, {
      id: `usr_${company.id.slice(4)}`,
      name: 'Sandbox Admin',
      email: `admin@${company.domain}`,
      company: { id: company.id, name: company.name, domain: company.domain },
      authenticated_with: caller.auth,
      scopes: caller.scopes,
    });
  }
  if (path === '/employees') return needs('employees:read') ?? page(company.employees, query);
  const employee = /^\/employees\/([^/]+)$/.exec(path);
  if (employee) {
    const found = company.employees.find((e) => e.id === decodeURIComponent(employee[1]!));
    return (
      needs('employees:read') ??
      (found ? json(200, found) : apiError(404, 'not_found', `No employee ${employee[1]}.`))
    );
  }
  if (path === '/tickets') {
    const status = query.get('status');
    const tickets = status ? company.tickets.filter((t) => t.status === status) : company.tickets;
    return needs('tickets:read') ?? page(tickets, query);
  }
  return apiError(
    404,
    'not_found',
    `No endpoint ${path}. Try GET /me, /employees, /employees/{id} or /tickets.`,
  );
}

/** ?page=1&page_size=25 (at most 100), answered as { data, page, page_size, total, next_page }. */
function page<T>(items: T[], query: URLSearchParams): Response {
  const pageNumber = Number(query.get('page') ?? '1');
  const size = Number(query.get('page_size') ?? '25');
  if (!Number.isInteger(pageNumber) || pageNumber < 1 || !Number.isInteger(size) || size < 1 || size > 100) {
    return apiError(400, 'invalid_request', 'page must be 1 or more, page_size between 1 and 100.');
  }
  const start = (pageNumber - 1) * size;
  return json(200, {
    data: items.slice(start, start + size),
    page: pageNumber,
    page_size: size,
    total: items.length,
    next_page: start + size < items.length ? pageNumber + 1 : null,
  });
}
