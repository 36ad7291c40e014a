import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import {
  type AddressPolicy,
  BlockedAddressError,
  bareHostname,
  checkAddress,
  guardedLookup,
  parseHttpUrl,
} from '../outbound/address-policy.ts';

export const DEFAULT_MAX_RESPONSE_BYTES = 4096;

export interface SendResult {
  /** True only for a 2xx whose exchange finished (body read or capped) before the deadline. */
  ok: boolean;
  statusCode: number | null;
  /** Short human-readable reason when not ok, shown to API users on the delivery attempt. */
  error: string | null;
  latencyMs: number;
  /** At most maxResponseBytes of the response body, as UTF-8 (a character cut by the cap is dropped). */
  responseBody: string;
}

export interface SendOptions {
  /** Deadline for the whole exchange: DNS, connect, TLS, request, response headers and body. */
  timeoutMs: number;
  policy: AddressPolicy;
  maxResponseBytes?: number;
  /** Keep-alive pools to reuse connections; without them every send opens (and closes) its own. */
  agents?: { http: http.Agent; https: https.Agent };
}

/**
 * One POST attempt. Never throws: every failure, including a bad or blocked URL, comes back as ok:false
 * so the delivery worker can record it and schedule a retry without special cases.
 */
export async function sendWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const cap = Math.max(0, opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);

  let target: URL;
  try {
    target = parseHttpUrl(url);
    const host = bareHostname(target);
    // Node never calls `lookup` for IP literals, so this is the only check they get before connecting.
    if (isIP(host)) checkAddress(host, opts.policy);
  } catch (err) {
    return { ok: false, statusCode: null, error: describeError(err), latencyMs: elapsed(), responseBody: '' };
  }

  const payload = Buffer.from(body, 'utf8');
  const requestHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Plugboard-Webhooks/1.0',
  };
  // Lower-cased so a caller's 'Content-Type' replaces the default instead of being sent alongside it.
  for (const [name, value] of Object.entries(headers)) requestHeaders[name.toLowerCase()] = value;
  requestHeaders['content-length'] = String(payload.length);

  return new Promise<SendResult>((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let statusCode: number | null = null;
    let settled = false;
    let req: http.ClientRequest | undefined;

    const settle = (error: string | null, bodyComplete: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A finished exchange leaves the socket to the keep-alive pool (if any); anything cut short
      // (cap, timeout, error) tears it down so the rest of a response stops arriving.
      if (!bodyComplete) req?.destroy();
      const decoder = new StringDecoder('utf8');
      const text = decoder.write(Buffer.concat(chunks)) + (bodyComplete ? decoder.end() : '');
      resolve({ ok: error === null, statusCode, error, latencyMs: elapsed(), responseBody: text });
    };
    const statusError = (): string | null => {
      if (statusCode === null) return 'no response';
      if (statusCode >= 200 && statusCode < 300) return null;
      // Following a redirect would let a public endpoint bounce the request to an internal address, and
      // re-POSTing a signed body to a URL nobody registered is not wanted anyway.
      if (statusCode >= 300 && statusCode < 400) return `redirect (HTTP ${statusCode}) not followed`;
      return `HTTP ${statusCode}`;
    };

    const timer = setTimeout(() => settle(`timed out after ${opts.timeoutMs} ms`, false), opts.timeoutMs);

    try {
      req = (target.protocol === 'https:' ? https : http).request(target, {
        method: 'POST',
        headers: requestHeaders,
        lookup: guardedLookup(opts.policy),
        agent: opts.agents ? (target.protocol === 'https:' ? opts.agents.https : opts.agents.http) : false,
      });
    } catch (err) {
      // Synchronous throws here are bad header names/values, which retrying will not fix but must not crash.
      settle(describeError(err), false);
      return;
    }
    req.on('error', (err) => settle(describeError(err), false));
    req.on('response', (res) => {
      statusCode = res.statusCode ?? null;
      res.on('error', (err) => settle(describeError(err), false));
      if (cap === 0) {
        settle(statusError(), false);
        return;
      }
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = cap - received;
        if (chunk.length < room) {
          chunks.push(chunk);
          received += chunk.length;
          return;
        }
        // Cap reached: keep only what fits and hang up rather than drain a body of unknown size.
        chunks.push(chunk.subarray(0, room));
        received = cap;
        settle(statusError(), false);
      });
      res.on('end', () => settle(statusError(), true));
    });
    req.end(payload);
  });
}

function errorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code) return code;
  // With autoSelectFamily, a failure on every address arrives as an AggregateError of per-address errors.
  if (err instanceof AggregateError) return errorCode(err.errors[0]);
  return undefined;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'DNS lookup failed (host not found)',
  EAI_AGAIN: 'DNS lookup failed (temporary failure)',
};

function describeError(err: unknown): string {
  if (err instanceof BlockedAddressError) return err.message;
  if (!(err instanceof Error)) return String(err);
  const code = errorCode(err);
  if (code && REASONS[code]) return REASONS[code];
  if (code && (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL'))) {
    return `TLS error: ${err.message}`;
  }
  return err.message || code || 'request failed';
}
