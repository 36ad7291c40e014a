import { type Readable, Transform } from 'node:stream';
import type { AccountEntry } from '../cache/data-caches.ts';
import type { Catalogue } from '../connectors/catalogue.ts';
import type { Connector } from '../connectors/schema.ts';
import { fillTemplate } from '../connectors/templates.ts';
import type { Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import { DomainError, validationFailed } from '../errors.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import type { ProxyRequestBody } from '../schemas/proxy.ts';
import { accountForUse } from './accounts.ts';
import { authMethodOf, effectiveUrls } from './integrations.ts';
import {
  buildProviderRequest,
  headerValue,
  providerCallError,
  providerUrl,
  readCapped,
  streamProviderRequest,
} from './provider-http.ts';
import type { ProjectContext } from './tenancy.ts';

export interface ProxyDeps {
  db: Db;
  vault: Vault;
  catalogue: Catalogue;
  outbound: OutboundClient;
}

export interface ProxyResult {
  status: number;
  contentType: string | null;
  /**
   * The provider's body: whole when small, else passed through as it arrives (erroring, which ends
   * the answer, past the cap).
   */
  body: Buffer | Readable;
}

/** Provider answers larger than this are refused (up front when announced, else cut off there). */
export const MAX_PROXY_RESPONSE_BYTES = 10 * 1024 * 1024;

/**
 * Headers a caller may not set: they would replace the account's credentials, leak the caller's own,
 * or break the framing of the request Plugboard sends.
 */
const RESERVED_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'x-account-id',
]);

/**
 * POST /unified/proxy: calls the provider's API as the linked account, with fresh credentials attached
 * the way the connector says. Only the account's own API host can be reached, and the caller's input
 * is never treated as a template (a path cannot pull a secret into the URL).
 */
export async function proxyRequest(
  deps: ProxyDeps,
  project: ProjectContext,
  accountId: string,
  input: ProxyRequestBody,
): Promise<ProxyResult> {
  const entry = await accountForUse(deps, project.projectId, accountId);
  const { row: account, integration } = entry;
  const connector = deps.catalogue.get(account.provider);
  if (!integration || !connector) {
    throw new DomainError('unprocessable', 'The auth config of this account is gone; reconnect the account.');
  }
  for (const [field, value] of [
    ['body.url', input.url],
    ['body.path', input.path],
  ] as const) {
    if (value?.includes('{{'))
      throw validationFailed(`${field} must not contain "{{"`, [`${field}: "{{" not allowed`]);
  }

  const { values, apiBase, apiOrigin } = preparedFor(entry, connector, integration);
  if (input.url && new URL(input.url).origin !== apiOrigin) {
    throw validationFailed(
      `body.url must be on ${connector.name}'s API host for this account (${apiOrigin}).`,
      [`body.url: must start with ${apiOrigin}`],
    );
  }
  const method = (input.method ?? 'get').toUpperCase();
  const request = buildProviderRequest(
    input.url ?? apiBase,
    input.path ?? '',
    method,
    authMethodOf(connector, integration.auth_method),
    values,
  );
  // A path like "//other.host/x" or "/../" is normalised by URL(); whatever it becomes, it stays here.
  if (new URL(request.url).origin !== apiOrigin) {
    throw validationFailed('body.path must stay on the account API host.', [
      'body.path: leaves the API host',
    ]);
  }
  const callerHeaders = Object.fromEntries(
    Object.entries(input.headers ?? {})
      .map(([name, value]) => [name.toLowerCase(), value] as const)
      .filter(([name]) => !RESERVED_HEADERS.has(name)),
  );
  // The connector's credential headers win over anything the caller sent under the same name.
  request.headers = { ...callerHeaders, ...request.headers };
  let body: string | undefined;
  if (input.body !== undefined && input.body !== null && method !== 'GET') {
    body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
    request.headers['content-type'] ??= 'application/json';
  }

  const response = await streamProviderRequest(deps.outbound, request, body);
  const contentType = headerValue(response.headers['content-type']);
  if (response.status >= 200 && response.status < 300) {
    const announced = Number(headerValue(response.headers['content-length']) ?? 0);
    if (announced > MAX_PROXY_RESPONSE_BYTES) {
      response.body.destroy();
      throw tooLarge(connector.name);
    }
    const head = await readHead(response.body, SMALL_BODY_BYTES).catch((err) => {
      throw providerCallError(err, request.url, deps.outbound.timeoutMs);
    });
    if (Buffer.isBuffer(head)) return { status: response.status, contentType, body: head };
    const body = capped(connector.name);
    // A provider body that fails midway (timeout, reset) must end the answer too, and a caller that
    // goes away must release the provider's connection. Wired by hand: stream.pipeline allocates an
    // AbortController (and a DOMException on finish) per call, a measurable cost on this path.
    const source = response.body;
    source.on('error', (err) => body.destroy(err));
    body.on('close', () => {
      if (!source.readableEnded) source.destroy();
    });
    for (const chunk of head) body.write(chunk);
    source.pipe(body);
    return { status: response.status, contentType, body };
  }
  const { bytes } = await readCapped(response.body, 64 * 1024);
  const providerResponse = bytes.toString('utf8');
  // The provider's own 4xx (bad path, missing permission…) keeps its status; anything else is a 502.
  const passOn = response.status >= 400 && response.status < 500 && response.status !== 401;
  throw new DomainError(
    'provider_error',
    response.status >= 300 && response.status < 400
      ? `${connector.name} answered with a redirect (HTTP ${response.status}), which the proxy does not follow.`
      : `${connector.name} answered HTTP ${response.status}.`,
    { provider_response: providerResponse, ...(passOn ? { status: response.status } : {}) },
  );
}

/**
 * What every call of an account needs: its template values and API base URL. Worked out once per
 * account entry, which the cache keeps (and replaces on any change) for a few seconds.
 */
const prepared = new WeakMap<
  AccountEntry,
  { values: Record<string, string>; apiBase: string; apiOrigin: string }
>();

function preparedFor(
  entry: AccountEntry,
  connector: Connector,
  integration: NonNullable<AccountEntry['integration']>,
) {
  let found = prepared.get(entry);
  if (!found) {
    const values = Object.fromEntries(
      Object.entries({ ...(entry.row.setup_information ?? {}), ...entry.credentials }).map(([k, v]) => [
        k,
        String(v),
      ]),
    );
    const apiBase = fillTemplate(effectiveUrls(connector, integration).api_base_url, values, {
      encode: true,
    });
    found = { values, apiBase, apiOrigin: providerUrl(apiBase).origin };
    prepared.set(entry, found);
  }
  return found;
}

/**
 * Most provider answers are small: those are read whole and sent as one buffer with a length (one
 * write, no chunked framing, no stream plumbing per call). Larger ones stream through from there.
 */
const SMALL_BODY_BYTES = 64 * 1024;

/**
 * The whole body when it ends within `limit` bytes; otherwise the chunks read so far, with `source`
 * paused at that point for the caller to pipe on. Rejects with the stream's error.
 */
function readHead(source: Readable, limit: number): Promise<Buffer | Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size <= limit) return;
      stop();
      source.pause();
      resolve(chunks);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
  });
}

const tooLarge = (name: string) =>
  new DomainError(
    'provider_error',
    `${name} answered with more than ${MAX_PROXY_RESPONSE_BYTES / 1024 / 1024} MiB; ask for a smaller page.`,
  );

/**
 * Passes bytes through up to the cap. A body that did not announce its length and runs past the cap
 * has already started to flow to the caller, so the answer is cut off there (the connection is closed
 * without a complete body) rather than buffered to decide first.
 */
function capped(name: string): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.byteLength;
      if (size > MAX_PROXY_RESPONSE_BYTES) return done(tooLarge(name));
      done(null, chunk);
    },
  });
}
