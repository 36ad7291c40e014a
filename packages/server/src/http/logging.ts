import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';
import { type Bindings, type ChildLoggerOptions, type DestinationStream, destination } from 'pino';

/** Query parameters that carry secrets (the OAuth popup puts the session token in the URL). */
const SECRET_QUERY_KEYS = /^(token|code|state|client_secret|api_key|access_token|refresh_token)$/i;

/** Paths whose last segment is a secret: a provider's trigger URL holds the account's inbound token. */
const SECRET_PATH = /^(\/webhooks\/inbound\/)[^/?]+/;

/** Redacts secret path segments and query parameters from a URL before it is logged. */
export function redactUrl(rawUrl: string): string {
  const url = rawUrl.replace(SECRET_PATH, '$1[redacted]');
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) if (SECRET_QUERY_KEYS.test(key)) params.set(key, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

/**
 * pino options for Fastify: request lines show method, redacted URL and client address only; headers
 * that carry credentials are redacted wherever they appear.
 */
export function loggerOptions(level: string, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level,
    // Standard output, written asynchronously: a line logged while the previous write is under way
    // joins the next write instead of blocking the event loop once per request (pino's default is a
    // synchronous write per line). pino flushes what is pending when the process exits.
    stream: stream ?? (level === 'silent' ? undefined : destination({ dest: 1, sync: false })),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-hub-session-token"]',
        'req.headers.cookie',
        'headers.authorization',
        'headers["x-hub-session-token"]',
        '*.token',
        '*.api_key',
        '*.client_secret',
        '*.credentials',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        url: redactUrl(req.url),
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
    },
  };
}

/** The request line's fields, as written by registerRequestLog and by the hub read lane. */
export interface RequestLineFields {
  reqId: string;
  method: string;
  /** As requested; redacted here. */
  url: string;
  remoteAddress: string | undefined;
  statusCode: number;
  /** Milliseconds. */
  responseTime: number;
}

/** Writes the line; `fields` must be the caller's own fresh object (its url is redacted in place). */
export type RequestLine = (fields: RequestLineFields) => void;

/**
 * One info line per request, written when the answer is sent: method, redacted URL, client address,
 * status and time (flat fields). Fastify's default writes two (on arrival and on completion), each serialised by
 * pino; at the default level that doubled the cost of logging on every request. Returns the line's
 * writer for answers sent outside Fastify (the hub read lane), or undefined when info is not enabled.
 */
export function registerRequestLog(app: FastifyInstance): RequestLine | undefined {
  if (!['info', 'debug', 'trace'].includes(app.log.level)) return undefined;
  // The line's fields are fixed, with plain values (the URL redacted): no redaction path can match
  // them, so pino's redaction, which walks every field of every line because of the '*.x' paths, is
  // skipped for it. Written by the app's logger with the request id first (reqId, Fastify's default
  // label), the line a request's child logger would write: no child is made for it
  // (lazyRequestLogger), and no route sets its own log level. test/request-log.test.ts holds the two
  // to the same lines. Together about 12 µs a request at info.
  const lines = app.log.child({}, { redact: [] });
  // Callers pass a fresh object, which becomes the line: redacted in place rather than copied, since
  // this runs for every request.
  const write: RequestLine = (fields) => {
    fields.url = redactUrl(fields.url);
    lines.info(fields, 'request completed');
  };
  app.addHook('onResponse', (request, reply, done) => {
    write({
      reqId: request.id,
      method: request.method,
      url: request.url,
      remoteAddress: request.ip,
      statusCode: reply.statusCode,
      responseTime: reply.elapsedTime,
    });
    done();
  });
  return write;
}

/**
 * Request ids for Fastify (its genReqId) and for answers sent outside it: a proxy's x-request-id when
 * given, so logs join up across hops, else Fastify's own form (req-1, req-2…, base 36, wrapping below
 * 2^31 as Fastify does).
 */
export function requestIds(): { next: () => string; of: (req: IncomingMessage) => string } {
  let last = 0;
  const next = () => {
    last = (last + 1) & 0x7fffffff;
    return `req-${last.toString(36)}`;
  };
  return {
    next,
    of: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && given ? given : next();
    },
  };
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * request.log, made only when something logs. Fastify builds a pino child per request (its bindings
 * hold reqId) at every level, silent included: about a µs and its garbage on every request, although
 * most requests never use it (the request line is written without it, registerRequestLog).
 */
class RequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private logger(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  /** pino's overloads, called with what they were given. */
  private forward(method: LogMethod, args: unknown[]): void {
    (this.logger() as unknown as Record<LogMethod, (...a: unknown[]) => void>)[method](...args);
  }

  get level(): string {
    return this.made ? this.made.level : (this.options.level ?? this.parent.level);
  }
  set level(level: string) {
    this.logger().level = level;
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }
  fatal(...args: unknown[]): void {
    this.forward('fatal', args);
  }
  error(...args: unknown[]): void {
    this.forward('error', args);
  }
  warn(...args: unknown[]): void {
    this.forward('warn', args);
  }
  info(...args: unknown[]): void {
    this.forward('info', args);
  }
  debug(...args: unknown[]): void {
    this.forward('debug', args);
  }
  trace(...args: unknown[]): void {
    this.forward('trace', args);
  }
  silent(): void {}
}

/** Fastify's childLoggerFactory: request.log without a pino child until something logs through it. */
export const lazyRequestLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
) => new RequestLogger(logger, bindings, options);
