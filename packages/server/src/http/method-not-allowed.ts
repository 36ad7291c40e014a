import type { FastifyInstance } from 'fastify';
import FindMyWay from 'find-my-way';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Fastify answers a known path with an unknown method as 404. Callers deserve 405 with an Allow
 * header, so this keeps a shadow router of every registered route to ask "which methods would match?".
 */
export function trackRoutesForMethodNotAllowed(app: FastifyInstance): (url: string) => string[] {
  // Same matching rules as Fastify's own router (trailing slash significant), so a path Fastify does
  // not know is a 404, never a 405 that lists the very method the caller used.
  const router = FindMyWay();
  const noop = () => {};
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if ((METHODS as readonly string[]).includes(method) && !router.hasRoute(method as never, route.url)) {
        router.on(method as never, route.url, noop);
      }
    }
  });
  return (url) => {
    const path = url.split('?')[0] ?? url;
    return METHODS.filter((m) => router.find(m, path) !== null);
  };
}
