import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { errorResponse } from '../schemas/common.ts';
import { EXAMPLE } from '../schemas/examples.ts';
import { completeAuthorization, startAuthorization } from '../services/oauth-flow.ts';

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
    providerTimeoutMs: ctx.config.providerTimeoutMs,
    oauthRedirectUris: ctx.config.oauthRedirectUris,
  };
  const tags = ['OAuth'];

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
        description:
          "A browser navigation (popup or system browser), not an API call. Besides the three parameters below, the query may carry the fields of the connector's form that its authorize URL needs (for example `subdomain=acme`), one parameter each.",
        params: z.object({
          integration_id: z
            .uuid({ error: 'must be an integration_id' })
            .meta({ examples: [EXAMPLE.integrationId] }),
        }),
        querystring: startQuery,
        response: { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse },
        responseDocs: {
          302: {
            description: "To the provider's authorization page, with PKCE and a single-use state",
            headers: {
              location:
                "The provider's authorize URL, e.g. https://app.hubspot.com/oauth/authorize?response_type=code&client_id=…&redirect_uri=…%2Fconnect%2Foauth2%2Fcallback&scope=…&state=…&code_challenge=…&code_challenge_method=S256",
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
        },
      },
    },
    async (request, reply) => {
      const { location } = await startAuthorization(deps, request.params.integration_id, request.query);
      return reply
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .redirect(location, 302);
    },
  );
};
