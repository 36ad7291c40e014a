import type { Readable } from 'node:stream';
import type { AuthMethod } from '../connectors/auth-schema.ts';
import { fillTemplate } from '../connectors/templates.ts';
import { DomainError, validationFailed } from '../errors.ts';
import { BlockedAddressError, InvalidUrlError } from '../outbound/address-policy.ts';
import type { OutboundClient, StreamedResponse } from '../outbound/http-client.ts';

/** Values a connector's templates can refer to: every form field, plus tokens for OAuth methods. */
export type CredentialValues = Record<string, string>;

export interface ProviderRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

/**
 * Builds a request to the provider's API: base URL and path with placeholders filled, and the
 * credentials attached the way the connector's auth method says (headers, query, basic auth).
 */
export function buildProviderRequest(
  baseUrlTemplate: string,
  pathTemplate: string,
  httpMethod: string,
  auth: AuthMethod,
  values: CredentialValues,
): ProviderRequest {
  const base = fillTemplate(baseUrlTemplate, values, { encode: true }).replace(/\/+$/, '');
  const path = fillTemplate(pathTemplate, values, { encode: true });
  const url = providerUrl(base + (path.startsWith('/') || path === '' ? path : `/${path}`));
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [name, template] of Object.entries(auth.apply.headers ?? {})) {
    const value = fillTemplate(template, values);
    if (!isHeaderValue(value)) throw unsendableCredential(template);
    headers[name.toLowerCase()] = value;
  }
  for (const [name, template] of Object.entries(auth.apply.query ?? {})) {
    url.searchParams.set(name, fillTemplate(template, values));
  }
  if (auth.apply.basic) {
    const user = fillTemplate(auth.apply.basic.username, values);
    const pass = fillTemplate(auth.apply.basic.password, values);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  return { url: url.toString(), method: httpMethod, headers };
}

/**
 * Settings fill URL templates (a subdomain, a region): values that do not make a URL are the account's
 * or auth config's problem, said as such, not a crash.
 */
export function providerUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new DomainError(
      'unprocessable',
      "The account's settings (or the auth config's URLs) do not make a valid provider URL; fix them or reconnect the account.",
    );
  }
}

/** What an HTTP header value may hold: Latin-1 text without line breaks or NUL (fetch refuses the rest). */
export function isHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

/** A credential typed with characters no header can carry is the caller's to fix, not a provider outage. */
function unsendableCredential(template: string): DomainError {
  const fields = [...template.matchAll(/\{\{\s*([\w.-]+)\s*\}\}/g)].map((m) => m[1]);
  const named = fields.length ? fields : ['credentials'];
  return validationFailed(
    `The credential ${named.map((f) => `"${f}"`).join(', ')} contains characters that cannot be sent in an HTTP header (line breaks, NUL or non-Latin-1 characters): check the value that was pasted.`,
    named.map((f) => `credentials.${f}: contains characters that cannot be sent in an HTTP header`),
  );
}

export interface ProviderResponse {
  status: number;
  /** The body as text (what error messages and checks look at). */
  body: string;
  /** The same bytes, for passing a response on unchanged. */
  bytes: Buffer;
  contentType: string | null;
  /** The body was longer than maxBodyBytes and was cut there. */
  truncated: boolean;
}

/**
 * Sends a request to a provider through the outbound guard with a capped body: redirects are not
 * followed (a credential must not be replayed to another host) and at most maxBodyBytes are read.
 */
export async function sendProviderRequest(
  outbound: OutboundClient,
  request: ProviderRequest,
  options: { maxBodyBytes?: number; body?: string } = {},
): Promise<ProviderResponse> {
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const response = await streamProviderRequest(outbound, request, options.body);
  const { bytes, truncated } = await readCapped(response.body, maxBodyBytes);
  return {
    status: response.status,
    body: bytes.toString('utf8'),
    bytes,
    contentType: headerValue(response.headers['content-type']),
    truncated,
  };
}

/** sendProviderRequest without reading the body: the caller reads (or destroys) the stream. */
export async function streamProviderRequest(
  outbound: OutboundClient,
  request: ProviderRequest,
  body?: string,
): Promise<StreamedResponse> {
  try {
    return await outbound.stream(request.url, { method: request.method, headers: request.headers, body });
  } catch (err) {
    throw providerCallError(err, request.url, outbound.timeoutMs);
  }
}

export const headerValue = (value: string | string[] | undefined): string | null =>
  (Array.isArray(value) ? value[0] : value) ?? null;

/** undici's timeouts (the streamed calls use its timers rather than an AbortSignal). */
const UNDICI_TIMEOUTS = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * What a failed provider call means to the caller: an address the guard refuses is the configuration's
 * fault (422, and nothing was sent), a timeout is 504, anything else on the way is 502.
 */
export function providerCallError(err: unknown, url: string, timeoutMs: number): DomainError {
  if (err instanceof DomainError) return err;
  if (err instanceof BlockedAddressError || err instanceof InvalidUrlError) {
    return new DomainError('unprocessable', `This connection cannot be used: the ${err.message}.`);
  }
  const { name, code } = err as Error & { code?: string };
  if (name === 'TimeoutError' || name === 'AbortError' || (code && UNDICI_TIMEOUTS.has(code))) {
    return new DomainError(
      'provider_timeout',
      `Could not reach ${hostOf(url)}: no answer within ${Math.round(timeoutMs / 1000)} s. Try again in a moment.`,
      { provider_response: '' },
    );
  }
  const cause = (err as Error & { cause?: Error }).cause;
  return new DomainError('provider_unavailable', `Could not reach ${hostOf(url)}.`, {
    provider_response: cause?.message ?? (err as Error).message,
  });
}

/** Reads at most `max` bytes (and says whether there was more), then lets the connection go. */
export async function readCapped(
  body: Readable,
  max: number,
): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
      if (size > max) break;
    }
  } finally {
    // Breaking out of the loop destroys the stream; a finished one is left as it is.
    if (!body.readableEnded) body.destroy();
  }
  const all = Buffer.concat(chunks);
  return { bytes: all.subarray(0, max), truncated: all.length > max };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid URL';
  }
}
