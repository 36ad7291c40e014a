import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { DomainError } from '../errors.ts';
import { completeAuthorization, startAuthorization } from '../services/oauth-flow.ts';

/**
 * Browser navigations of the OAuth flow (no custom headers: the session token is in the query string,
 * which the logger redacts). Start redirects to the provider; the callback redirects to redirect_uri.
 */
export const oauthRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  const deps = {
    ...ctx,
    publicUrl: ctx.config.publicUrl,
    outbound: ctx.outbound,
    oauthRedirectUris: ctx.config.oauthRedirectUris,
  };
  const tags = ['OAuth'];

  app.get(
    '/connect/oauth2/callback',
    { schema: { tags, summary: 'Where providers send the browser back (registered redirect URI)' } },
    async (request, reply) => {
      const params = new URLSearchParams(request.query as Record<string, string>);
      return reply
        .header('referrer-policy', 'no-referrer')
        .redirect(await completeAuthorization(deps, params), 302);
    },
  );

  app.get(
    '/connect/oauth2/:integration_id',
    {
      schema: {
        tags,
        summary: 'Start the OAuth authorization-code flow (popup or redirect mode)',
        params: z.object({ integration_id: z.uuid({ error: 'must be an integration_id' }) }),
        querystring: z.record(z.string(), z.string().max(2048)),
      },
    },
    async (request, reply) => {
      // The session token travels in the query here: failed tokens are throttled like the hub's header.
      const token = request.query.token || undefined;
      await app.authThrottle.check(request, 'session_token', token);
      const { location } = await startAuthorization(deps, request.params.integration_id, request.query).catch(
        async (err) => {
          if (err instanceof DomainError && err.code === 'unauthorized')
            await app.authThrottle.recordFailure(request, 'session_token', token);
          throw err;
        },
      );
      return reply
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .redirect(location, 302);
    },
  );
};
