import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { API_KEY_SECURITY, apiKeyAuth, projectOf } from '../http/api-key-auth.ts';
import { errorBody } from '../http/error-body.ts';
import { consentPage, errorPage } from '../sandbox/consent-page.ts';
import { SANDBOX_ROUTE_PREFIX } from '../sandbox/constants.ts';
import { expireToken, failNextRefresh } from '../sandbox/controls.ts';
import { type AuthorizeParams, checkAuthorizeRequest, decide } from '../sandbox/oauth-server.ts';
import { errorResponse, errorResponses } from '../schemas/common.ts';
import {
  expireTokenResult,
  failNextRefreshBody,
  failNextRefreshResult,
  sandboxAccountParams,
  sandboxAuthorizeQuery,
  sandboxConsentForm,
} from '../schemas/sandbox.ts';

/**
 * The sandbox provider's browser side (its consent page, under Plugboard's public URL because the
 * browser cannot reach the sandbox origin) and the levers integrators pull to test token refresh.
 * Registered only when PLUGBOARD_SANDBOX is on.
 */
export const sandboxRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  const { db, config } = ctx;
  const action = `${config.publicUrl}${SANDBOX_ROUTE_PREFIX}/oauth/authorize`;
  const publicOrigin = new URL(config.publicUrl).origin;
  // Only this plugin takes HTML form posts (the consent page's Allow / Deny).
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply
      .status(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header(
        'content-security-policy',
        `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${publicOrigin}; frame-ancestors 'none'; base-uri 'none'`,
      )
      .send(body);
  const tags = ['Sandbox'];
  // A browser gets a page it can show; any other client (no text/html in Accept) the API's error shape.
  const invalid = (request: FastifyRequest, reply: FastifyReply, message: string) =>
    (request.headers.accept ?? '').includes('text/html')
      ? html(reply, 400, errorPage(message))
      : reply.status(400).send(errorBody(400, `Invalid sandbox sign-in request: ${message}`));
  const pageDocs = {
    200: {
      description: 'The consent page, with Allow and Deny',
      content: { type: 'text/html', example: '<!doctype html><html lang="en">…<button>Allow</button>…' },
    },
    302: {
      description: 'Back to the redirect URI with error=invalid_request (or another OAuth error)',
      headers: { location: 'The redirect URI with error and state' },
    },
    400: 'A wrong client_id or redirect_uri: an error page for browsers (Accept: text/html), else this JSON',
  };

  app.get(
    `${SANDBOX_ROUTE_PREFIX}/oauth/authorize`,
    {
      schema: {
        tags,
        summary: "The sandbox's consent page (where sandbox_oauth sends the browser)",
        querystring: sandboxAuthorizeQuery,
        response: {
          200: z.string().describe('The consent page (HTML) with Allow and Deny'),
          302: z.null().describe('Back to the redirect URI with error=… for a malformed request'),
          400: z
            .union([z.string(), errorResponse])
            .describe(
              'An error page (HTML) for a wrong client_id or redirect_uri; JSON for a malformed query',
            ),
        },
        responseDocs: pageDocs,
      },
    },
    async (request, reply) => {
      const checked = checkAuthorizeRequest(request.query, config.publicUrl);
      if ('show' in checked) return invalid(request, reply, checked.show);
      if ('redirect' in checked) return reply.redirect(checked.redirect, 302);
      return html(reply, 200, consentPage(checked.ok, action));
    },
  );

  app.post(
    `${SANDBOX_ROUTE_PREFIX}/oauth/authorize`,
    {
      schema: {
        tags,
        summary: 'Allow or Deny on the consent page: back to the redirect URI with a code or access_denied',
        consumes: ['application/x-www-form-urlencoded'],
        body: sandboxConsentForm,
        response: {
          303: z.null().describe('Back to the redirect URI'),
          400: z
            .union([z.string(), errorResponse])
            .describe(
              'An error page (HTML) for a wrong client_id or redirect_uri; JSON for a malformed form',
            ),
        },
        responseDocs: {
          303: {
            description: 'Back to the redirect URI: with a code (Allow) or error=access_denied (Deny)',
            headers: { location: 'The redirect URI with code and state, or error=access_denied' },
          },
          400: pageDocs[400],
        },
      },
    },
    async (request, reply) => {
      const checked = checkAuthorizeRequest(request.body, config.publicUrl);
      if ('show' in checked) return invalid(request, reply, checked.show);
      if ('redirect' in checked) return reply.redirect(checked.redirect, 303);
      const params: AuthorizeParams = checked.ok;
      const location = await decide(db, params, request.body.decision === 'allow');
      return reply.header('referrer-policy', 'no-referrer').redirect(location, 303);
    },
  );

  await app.register(sandboxControlRoutes, ctx);
};

/** API-key authenticated: a project can pull these levers on its own sandbox accounts only. */
const sandboxControlRoutes: FastifyPluginAsyncZod<AppContext> = async (api, { db, vault }) => {
  const tags = ['Sandbox'];
  api.addHook('onRequest', apiKeyAuth(db));
  const byAccount = { tags, security: API_KEY_SECURITY, params: sandboxAccountParams };
  api.post(
    `${SANDBOX_ROUTE_PREFIX}/accounts/:account_id/fail_next_refresh`,
    {
      schema: {
        ...byAccount,
        summary: "Make a sandbox_oauth account's next token refreshes fail",
        description:
          'With invalid_grant (the default) the next refresh is refused: the account turns expired and account.refresh_failed is sent; the refresh token stays good, so the next refresh that is tried (POST /accounts/{id}/refresh, or the backoff retry) works and sends account.refresh_recovered. With temporarily_unavailable the sandbox answers 503: an outage, retried with backoff while the account stays active. Pair with expire_token to refresh at once.',
        body: failNextRefreshBody.optional(),
        response: { 200: failNextRefreshResult, ...errorResponses, 422: errorResponse },
        responseDocs: {
          200: 'How many refreshes will fail, and how',
          404: 'No account with this id in the project',
          422: 'Not a sandbox_oauth account (API-key sandbox accounts have no token to refresh)',
        },
      },
    },
    async (request) =>
      failNextRefresh({ db, vault }, projectOf(request), request.params.account_id, {
        count: request.body?.count ?? 1,
        error: request.body?.error ?? 'invalid_grant',
      }),
  );
  api.post(
    `${SANDBOX_ROUTE_PREFIX}/accounts/:account_id/expire_token`,
    {
      schema: {
        ...byAccount,
        summary: "Expire a sandbox_oauth account's access token now",
        description:
          'The sandbox stops accepting the token and Plugboard treats it as expired, so the next proxy call or GET /accounts/{id}/credentials refreshes it first.',
        response: { 200: expireTokenResult, ...errorResponses, 422: errorResponse },
        responseDocs: {
          200: 'The token now counts as expired',
          404: 'No account with this id in the project',
          422: 'Not a sandbox_oauth account (API-key sandbox accounts have no token to refresh)',
        },
      },
    },
    async (request) => expireToken({ db, vault }, projectOf(request), request.params.account_id),
  );
};
