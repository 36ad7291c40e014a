import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { DomainError } from '../errors.ts';
import { type BrowserBinding, completeAuthorization, startAuthorization } from '../services/oauth-flow.ts';

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
  const publicUrl = new URL(ctx.config.publicUrl);
  const secure = publicUrl.protocol === 'https:';
  // The path browsers see, which includes the public URL's prefix when behind a proxy at /plugboard.
  const cookiePath = `${publicUrl.pathname.replace(/\/+$/, '')}/connect/oauth2`;

  app.get(
    '/connect/oauth2/callback',
    { schema: { tags, summary: 'Where providers send the browser back (registered redirect URI)' } },
    async (request, reply) => {
      const params = new URLSearchParams(request.query as Record<string, string>);
      const cookies = parseCookies(request.headers.cookie);
      const target = await completeAuthorization(deps, params, (name) => cookies.get(name));
      return reply.header('referrer-policy', 'no-referrer').redirect(target, 302);
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
      const { location, browserBinding } = await startAuthorization(
        deps,
        request.params.integration_id,
        request.query,
      ).catch(async (err) => {
        if (err instanceof DomainError && err.code === 'unauthorized')
          await app.authThrottle.recordFailure(request, 'session_token', token);
        throw err;
      });
      return reply
        .header('set-cookie', bindingCookie(browserBinding, cookiePath, secure))
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .redirect(location, 302);
    },
  );
};

/**
 * The browser-binding cookie: HttpOnly, scoped to the OAuth paths, gone after the state's lifetime.
 * Over https it is SameSite=None and Partitioned, so the flow also works when the hub runs inside a
 * cross-origin iframe (a partitioned cookie stays in that embedding); over plain http (development)
 * browsers refuse SameSite=None, and Lax still comes back on the provider's top-level redirect.
 */
function bindingCookie(binding: BrowserBinding, path: string, secure: boolean): string {
  const attributes = [
    `${binding.name}=${binding.value}`,
    `Path=${path}`,
    `Max-Age=${binding.maxAgeSeconds}`,
    'HttpOnly',
    ...(secure ? ['Secure', 'SameSite=None', 'Partitioned'] : ['SameSite=Lax']),
  ];
  return attributes.join('; ');
}

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}
