import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { DomainError } from '../errors.ts';
import { errorResponse } from '../schemas/common.ts';
import { EXAMPLE } from '../schemas/examples.ts';
import { type BrowserBinding, completeAuthorization, startAuthorization } from '../services/oauth-flow.ts';

const queryValue = z.string().max(2048);

/**
 * The start URL's query: three named parameters, then any fields of the connector's form that the
 * authorize URL needs (a tenant subdomain, a region), each as one more parameter.
 */
const startQuery = z
  .object({
    redirect_uri: queryValue.optional().meta({
      description:
        "Where the browser goes when the flow ends, with status, account_id, provider or error, error_description and connection_attempt_id in its query: Plugboard's finish page, an origin of the session's allowed_origins, or an entry of PLUGBOARD_OAUTH_REDIRECT_URIS",
      examples: [`${EXAMPLE.publicUrl}/embedded/accounts/callback`],
    }),
    token: queryValue.optional().meta({
      description: 'The connect session token (a navigation carries no headers; the logs redact it)',
      examples: [EXAMPLE.sessionToken],
    }),
    connection_attempt_id: queryValue.optional().meta({
      description: 'The attempt from POST /hub/connection_attempts that will record the outcome',
      examples: [EXAMPLE.attemptId],
    }),
  })
  // Form fields follow as further parameters; each is a string like the named ones.
  .catchall(queryValue);

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
    {
      schema: {
        tags,
        summary: 'Where providers send the browser back (registered redirect URI)',
        description:
          'Register `<PLUGBOARD_PUBLIC_URL>/connect/oauth2/callback` at the provider. The provider adds `code` and `state` (or `error`); Plugboard exchanges the code, stores the tokens encrypted and sends the browser on.',
        responseDocs: {
          302: {
            description: "Back to the flow's redirect_uri with the outcome in its query",
            headers: {
              location: `The start's redirect_uri plus status=success, account_id, provider and connection_attempt_id, or status=error, error and error_description; e.g. ${EXAMPLE.publicUrl}/embedded/accounts/callback?connection_attempt_id=${EXAMPLE.attemptId}&status=success&account_id=${EXAMPLE.accountId}&provider=hubspot`,
            },
          },
          400: {
            description: 'The state is unknown, used or expired: start the connection again',
            example: {
              statusCode: 400,
              message: 'This sign-in link was already used or has expired. Start the connection again.',
              timestamp: EXAMPLE.created,
            },
          },
        },
        response: { 400: errorResponse },
      },
    },
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
        description:
          "A browser navigation (popup or system browser), not an API call. Besides the three parameters below, the query may carry the fields of the connector's form that its authorize URL needs (for example `subdomain=acme`), one parameter each.",
        params: z.object({
          integration_id: z
            .uuid({ error: 'must be an integration_id' })
            .meta({ examples: [EXAMPLE.integrationId] }),
        }),
        querystring: startQuery,
        response: {
          400: errorResponse,
          401: errorResponse,
          404: errorResponse,
          409: errorResponse,
          422: errorResponse,
          429: errorResponse,
        },
        responseDocs: {
          302: {
            description: "To the provider's authorization page, with PKCE and a single-use state",
            headers: {
              location:
                "The provider's authorize URL, e.g. https://app.hubspot.com/oauth/authorize?response_type=code&client_id=…&redirect_uri=…%2Fconnect%2Foauth2%2Fcallback&scope=…&state=…&code_challenge=…&code_challenge_method=S256",
              'set-cookie':
                'An HttpOnly cookie binding the flow to this browser: the callback is refused in any other browser',
            },
          },
          400: {
            description: 'The redirect_uri is not allowed, or the connector does not connect through OAuth',
            example: {
              statusCode: 400,
              message:
                "redirect_uri is not allowed: use the finish page, an origin of the session's allowed_origins, or one listed in PLUGBOARD_OAUTH_REDIRECT_URIS.",
              timestamp: EXAMPLE.created,
            },
          },
          401: 'The session token is missing, invalid or expired',
          404: 'The integration is not one this session may use',
          409: 'The connection attempt has already finished',
          422: "The connector's authorization URL points at an address Plugboard refuses",
          429: 'Too many failed session tokens from this client: retry after the Retry-After seconds',
        },
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
