import type { FastifyInstance } from 'fastify';
import { validationFailed } from '../errors.ts';

const ALLOW_METHODS = 'GET, POST, PATCH, DELETE';
const ALLOW_HEADERS = 'content-type, x-hub-session-token, x-hub-version';
/** How long a browser may reuse a preflight's answer, in seconds. */
const MAX_AGE = '600';

/**
 * Whether a page of `origin` may read /hub/* answers (Access-Control-Allow-Origin echoes it): one of
 * `allowedOrigins`, or any when they contain '*'. Shared with the hub read lane (hub-read-lane.ts).
 */
export function hubOriginPolicy(
  allowedOrigins: readonly string[],
): (origin: string | undefined) => origin is string {
  const anyOrigin = allowedOrigins.includes('*');
  const allowed = new Set(allowedOrigins);
  return (origin): origin is string => !!origin && (anyOrigin || allowed.has(origin));
}

/**
 * CORS for /hub/*, which browsers call from the customer's page with the session token. Preflights
 * (OPTIONS, which never carry the token) are answered here, before authentication: 204 with the
 * methods and headers the hub uses, and the origin echoed when it is allowed. Other requests get the
 * origin echoed when it is allowed; an origin that is not gets no Access-Control-Allow-Origin, so the
 * browser withholds the answer. `allowedOrigins` containing '*' allows any origin (the session token
 * still guards every call).
 *
 * Kept here rather than in @fastify/cors: that plugin builds two route-option objects and a merged
 * copy of its options for every request, which cost a cached hub read about 6 % of its throughput
 * (docs/benchmarks.md), for a policy that fits in one callback hook.
 */
export function registerHubCors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  const allows = hubOriginPolicy(allowedOrigins);
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    // Whether the answer carries Access-Control-Allow-Origin depends on Origin: shared caches must know.
    reply.header('vary', 'Origin');
    if (allows(origin)) reply.header('access-control-allow-origin', origin);
    if (request.method !== 'OPTIONS') return done();
    if (!origin || !request.headers['access-control-request-method']) {
      return done(
        validationFailed(
          'OPTIONS on /hub/* is a CORS preflight: send Origin and Access-Control-Request-Method.',
          ['headers: origin and access-control-request-method are required'],
        ),
      );
    }
    reply
      .header('access-control-allow-methods', ALLOW_METHODS)
      .header('access-control-allow-headers', ALLOW_HEADERS)
      .header('access-control-max-age', MAX_AGE)
      // Safari waits for a body on a 204 without an explicit length.
      .header('content-length', '0')
      .code(204)
      .send();
  });
  // Routes OPTIONS on every /hub/* path to the hook above, which always answers first.
  app.options('/*', { schema: { hide: true }, config: { rateLimit: false } }, (_request, reply) =>
    reply.callNotFound(),
  );
}
