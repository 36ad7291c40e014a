import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, type Dispatcher, fetch as undiciFetch } from 'undici';
import {
  type AddressPolicy,
  BlockedAddressError,
  bareHostname,
  checkAddress,
  guardedLookup,
  parseHttpUrl,
} from './address-policy.ts';

/** Serves requests to an origin inside this process (the sandbox provider), without any network. */
export type InProcessHandler = (request: Request) => Promise<Response>;

export interface OutboundOptions {
  policy: AddressPolicy;
  /** Upper bound for one call (connect, headers and body), unless the caller passes its own signal. */
  timeoutMs: number;
  /** Origins (scheme://host) answered in-process; they never reach DNS or a socket. */
  inProcess?: Record<string, InProcessHandler>;
}

export type OutboundInit = Omit<RequestInit, 'redirect'>;

/** A request whose answer is read as a stream (the proxy passes it on without buffering it). */
export interface StreamInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface StreamedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Must be read to the end or destroyed, or the pooled connection is not given back. */
  body: Readable;
}

/**
 * The one way Plugboard calls a URL a tenant can influence: provider APIs, credential checks, the
 * proxy, OAuth token endpoints. It refuses addresses outside the policy (IP literals before
 * connecting, names inside the DNS lookup, which defeats rebinding), never follows a redirect (a
 * credential must not be replayed elsewhere, and a redirect could point inward), and bounds the time.
 * Connections are pooled and kept alive per origin.
 */
export interface OutboundClient {
  readonly policy: AddressPolicy;
  readonly timeoutMs: number;
  fetch(url: string | URL, init?: OutboundInit): Promise<Response>;
  /**
   * The same guard, pool, redirect rule and time bound as fetch (the bound covers the body too), with
   * the body as a Node stream: no WHATWG stream layers between the provider's socket and the caller.
   */
  stream(url: string, init: StreamInit): Promise<StreamedResponse>;
  close(): Promise<void>;
}

export function createOutboundClient(options: OutboundOptions): OutboundClient {
  const agent = new Agent({
    connect: { lookup: guardedLookup(options.policy), timeout: options.timeoutMs },
    keepAliveTimeout: 10_000,
    // Bounded per origin so one slow provider cannot take every socket.
    connections: 128,
  });
  const inProcess = new Map(Object.entries(options.inProcess ?? {}));
  // IP literals the policy allowed: the check is pure, and the proxy repeats it on every call.
  const allowedLiterals = new Set<string>();
  const checkLiteral = (host: string) => {
    if (allowedLiterals.has(host) || !isIP(host)) return;
    checkAddress(host, options.policy);
    if (allowedLiterals.size >= 1000) allowedLiterals.clear();
    allowedLiterals.add(host);
  };

  return {
    policy: options.policy,
    timeoutMs: options.timeoutMs,
    async fetch(input, init = {}) {
      const url = parseHttpUrl(String(input), 'provider URL');
      const signal = init.signal
        ? AbortSignal.any([init.signal, AbortSignal.timeout(options.timeoutMs)])
        : AbortSignal.timeout(options.timeoutMs);
      const local = inProcess.get(url.origin);
      if (local) return local(new Request(url, { ...init, signal, redirect: 'manual' }));
      const host = bareHostname(url);
      // Node never calls `lookup` for IP literals, so this is the only check they get before connecting.
      checkLiteral(host);
      try {
        const response = await undiciFetch(url, {
          ...(init as Parameters<typeof undiciFetch>[1]),
          signal,
          redirect: 'manual',
          dispatcher: agent,
        });
        return response as unknown as Response;
      } catch (err) {
        // undici wraps connect errors in "fetch failed"; a refused address must stay recognisable.
        const blocked = findCause(err, BlockedAddressError);
        if (blocked) throw blocked;
        throw err;
      }
    },
    async stream(input, init) {
      const url = parseHttpUrl(input, 'provider URL');
      const local = inProcess.get(url.origin);
      if (local) {
        const signal = AbortSignal.timeout(options.timeoutMs);
        const response = await local(new Request(url, { ...init, signal, redirect: 'manual' }));
        return {
          status: response.status,
          headers: Object.fromEntries(response.headers),
          body: response.body
            ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream)
            : Readable.from([]),
        };
      }
      const host = bareHostname(url);
      checkLiteral(host);
      try {
        // undici's request() never follows redirects (no redirect interceptor is composed here).
        // undici's own timers (no AbortSignal and timer per call on this hot path): the answer's head
        // must arrive within the timeout, and the body may not stall longer than that between chunks.
        // The agent's own request() with the URL already split: undici's top-level request(url) parses
        // it again and copies the options, about a fifth of the CPU of a proxied call (docs/benchmarks.md).
        const response = await agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: init.method as Dispatcher.HttpMethod,
          headers: init.headers,
          body: init.body,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        });
        return { status: response.statusCode, headers: response.headers, body: response.body };
      } catch (err) {
        const blocked = findCause(err, BlockedAddressError);
        if (blocked) throw blocked;
        throw err;
      }
    },
    close: () => agent.close(),
  };
}

function findCause<T extends Error>(err: unknown, type: new (...args: never[]) => T): T | undefined {
  let current: unknown = err;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof type) return current;
    if (current instanceof AggregateError) {
      const inner = current.errors.find((e) => e instanceof type);
      if (inner) return inner as T;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
