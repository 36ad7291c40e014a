import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { type DestinationStream, destination } from 'pino';

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

/**
 * One info line per request, written when the answer is sent: method, redacted URL, client address,
 * status and time (flat fields). Fastify's default writes two (on arrival and on completion), each serialised by
 * pino; at the default level that doubled the cost of logging on every request. Skipped entirely
 * when info is not enabled.
 */
export function registerRequestLog(app: FastifyInstance): void {
  if (!['info', 'debug', 'trace'].includes(app.log.level)) return;
  app.addHook('onResponse', (request, reply, done) => {
    // Plain values, already redacted: pino's serializers and redaction walk far less this way.
    request.log.info(
      {
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
        statusCode: reply.statusCode,
        responseTime: reply.elapsedTime,
      },
      'request completed',
    );
    done();
  });
}
