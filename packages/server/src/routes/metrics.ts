import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { unauthorized } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';

/**
 * Constant-time comparison of equal-length digests: comparing the strings' bytes directly throws when
 * equal-length strings differ in UTF-8 length (a header of Latin-1 characters), which was a 500.
 */
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/**
 * Counts every answered request by route template (never by raw URL: ids and tokens stay out of
 * label values) and serves the registry as Prometheus text at GET /metrics, behind a bearer token when
 * one is configured.
 */
const plugin: FastifyPluginAsync<{ metrics: Metrics; token: string | undefined }> = async (
  app,
  { metrics, token },
) => {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics')
      metrics.http.record(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (request, reply) => {
    if (token) {
      const given = request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
      await app.authThrottle.check(request, 'metrics_token', given || undefined);
      if (!sameSecret(given, token)) {
        await app.authThrottle.recordFailure(request, 'metrics_token', given || undefined);
        throw unauthorized('GET /metrics needs Authorization: Bearer <PLUGBOARD_METRICS_TOKEN>.');
      }
    }
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
};

// fastify-plugin: the onResponse hook must see every route, not only those of this plugin's scope.
export const metricsRoutes = fp(plugin, { name: 'plugboard-metrics' });
