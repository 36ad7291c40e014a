import type { AuthMethod } from '../connectors/schema.ts';
import { fillTemplate } from '../connectors/schema.ts';
import { DomainError } from '../errors.ts';

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
  const url = new URL(base + (path.startsWith('/') || path === '' ? path : `/${path}`));
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [name, template] of Object.entries(auth.apply.headers ?? {})) {
    headers[name.toLowerCase()] = fillTemplate(template, values);
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
 * Sends a request to a provider with a bounded time and a capped body: redirects are not followed
 * (a credential must not be replayed to another host) and at most maxBodyBytes are read.
 */
export async function sendProviderRequest(
  request: ProviderRequest,
  options: { timeoutMs: number; maxBodyBytes?: number; body?: string },
): Promise<ProviderResponse> {
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: options.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new DomainError(
        'provider_timeout',
        `The provider did not answer within ${Math.round(options.timeoutMs / 1000)} s. Try again in a moment.`,
        { provider_response: '' },
      );
    }
    throw new DomainError(
      'provider_unavailable',
      `The provider could not be reached (${hostOf(request.url)}).`,
      {
        provider_response: (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message,
      },
    );
  }
  const { bytes, truncated } = await readCapped(response, maxBodyBytes);
  return {
    status: response.status,
    body: bytes.toString('utf8'),
    bytes,
    contentType: response.headers.get('content-type'),
    truncated,
  };
}

async function readCapped(response: Response, max: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (!response.body) return { bytes: Buffer.alloc(0), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
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
