import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AppContext, serviceDeps } from '../context.ts';
import { API_KEY_SECURITY, projectAuth, projectOf } from '../http/api-key-auth.ts';
import {
  accountCredentials,
  accountIdParams,
  accountImport,
  accountListQuery,
  accountMeta,
  accountPatch,
  linkedAccount,
} from '../schemas/accounts.ts';
import { errorResponse, errorResponses } from '../schemas/common.ts';
import { importAccount } from '../services/account-import.ts';
import {
  deleteAccount,
  getAccount,
  getAccountCredentials,
  getAccountMeta,
  listAccounts,
  refreshAccount,
  updateAccount,
} from '../services/accounts.ts';

/** The same request with the cursor in place of page. */
function nextPageUrl(publicUrl: string, requestUrl: string, cursor: string): string {
  const url = new URL(requestUrl, 'http://x');
  url.searchParams.delete('page');
  url.searchParams.set('cursor', cursor);
  return `${publicUrl}${url.pathname}${url.search}`;
}

export const accountRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  app.addHook('onRequest', projectAuth(ctx));
  const deps = serviceDeps(ctx);
  const common = { tags: ['Accounts'], security: API_KEY_SECURITY };
  const byId = { ...common, params: accountIdParams };

  app.get(
    '/accounts',
    {
      schema: {
        ...common,
        summary: 'List linked accounts',
        description:
          'A bare JSON array, paged with page and page_size as in the reference. Beyond the reference: when a page is full, the answer carries the next page\'s cursor in an `x-next-cursor` header and a `Link: <…>; rel="next"` header; pass it as `cursor` (same filters and page_size, no page) to read the next page through the index, so deep pages cost what the first does. A cursor stays valid while its account exists or not: it marks a position, not a row. Also beyond the reference: `search` (a part of the owner id or name) and `type` narrow the list, with the other filters, page and cursor.',
        querystring: accountListQuery,
        response: { 200: z.array(linkedAccount), ...errorResponses },
        responseDocs: {
          200: 'The matching accounts, oldest first (by creation): a bare JSON array, as in StackOne',
        },
      },
    },
    async (request, reply) => {
      const { accounts, next } = await listAccounts(deps, projectOf(request), request.query);
      if (next) {
        reply.header('x-next-cursor', next);
        reply.header('link', `<${nextPageUrl(ctx.config.publicUrl, request.url, next)}>; rel="next"`);
      }
      return accounts;
    },
  );

  app.post(
    '/accounts',
    {
      schema: {
        ...common,
        summary: 'Import a linked account from existing credentials',
        description:
          'Creates an account from API-key fields or OAuth tokens it already has, without a connect flow. ' +
          'With external_id, importing the same account again answers the existing one (200) instead of a copy.',
        body: accountImport,
        response: { 200: linkedAccount, 201: linkedAccount, ...errorResponses, 502: errorResponse },
        responseDocs: {
          200: 'An account with this external_id was imported before: that account, unchanged',
          201: 'The new linked account (account.created is sent)',
          400: 'Invalid body, or credentials that do not fit the auth method (or refused by the provider with check: true)',
          404: 'No auth config with this integration_id in the project',
          502: 'With check: true, the provider could not be reached',
        },
      },
    },
    async (request, reply) => {
      const { account, created } = await importAccount(deps, projectOf(request), request.body);
      return reply.status(created ? 201 : 200).send(account);
    },
  );

  app.get(
    '/accounts/:id',
    {
      schema: {
        ...byId,
        summary: 'Get a linked account',
        response: { 200: linkedAccount, ...errorResponses },
        responseDocs: { 200: 'The account (its credentials never in clear)' },
      },
    },
    async (request) => getAccount(deps, projectOf(request), request.params.id),
  );

  app.patch(
    '/accounts/:id',
    {
      schema: {
        ...byId,
        summary: 'Update a linked account',
        body: accountPatch,
        response: { 200: linkedAccount, ...errorResponses },
        responseDocs: { 200: 'The account after the change; credentials are merged key by key' },
      },
    },
    async (request) => updateAccount(deps, projectOf(request), request.params.id, request.body),
  );

  app.delete(
    '/accounts/:id',
    {
      schema: {
        ...byId,
        summary: 'Delete a linked account',
        response: { 200: linkedAccount, ...errorResponses },
        responseDocs: { 200: 'The deleted account, as it was' },
      },
    },
    async (request) => deleteAccount(deps, projectOf(request), request.params.id),
  );

  app.get(
    '/accounts/:id/meta',
    {
      schema: {
        ...byId,
        summary: 'Provider and category of an account',
        response: { 200: accountMeta, ...errorResponses },
        responseDocs: { 200: "The account's provider, its primary category and the models it offers" },
      },
    },
    async (request) => getAccountMeta(deps, projectOf(request), request.params.id),
  );

  app.post(
    '/accounts/:id/refresh',
    {
      schema: {
        ...byId,
        summary: "Refresh an OAuth account's token now (beyond the reference)",
        description:
          'Calls the token endpoint at once, ignoring the expiry and any backoff. A success makes an expired account active again; a refusal answers 409 with the status reasons, an outage 503 with Retry-After.',
        response: { 200: linkedAccount, ...errorResponses, 409: errorResponse, 503: errorResponse },
        responseDocs: {
          200: 'The account with its new token stored (an expired account is active again)',
          409: {
            description:
              'The provider refused the refresh: the account needs reconnecting (see status_reasons)',
            example: {
              statusCode: 409,
              message:
                'This account needs reconnecting: hubspot refused to refresh its access (invalid_grant: refresh token is invalid). Create a connect session with its account_id to let the end user connect it again.',
              timestamp: '2026-11-25T10:05:00.000Z',
              status_reasons: [
                {
                  code: 'refresh_failed',
                  description: 'invalid_grant: refresh token is invalid',
                  timestamp: '2026-11-25T10:04:12.000Z',
                },
              ],
            },
          },
          503: {
            description: 'The provider is down or unreachable: try again after Retry-After seconds',
            headers: { 'retry-after': 'Seconds to wait before trying again' },
          },
        },
      },
    },
    async (request) => refreshAccount(deps, projectOf(request), request.params.id),
  );

  app.get(
    '/accounts/:id/credentials',
    {
      schema: {
        ...byId,
        summary: 'The decrypted credentials of an account (beyond the reference)',
        description:
          'OAuth tokens about to expire are refreshed first. 409 (with status_reasons) when the provider refused the refresh and the account needs reconnecting; 502/503/504 when the provider could not be reached (503 carries Retry-After).',
        response: {
          200: accountCredentials,
          ...errorResponses,
          502: errorResponse,
          503: errorResponse,
          504: errorResponse,
        },
        responseDocs: {
          200: {
            description:
              'The decrypted credentials; an OAuth access token is refreshed first when it is about to expire',
            headers: { 'cache-control': '`no-store`: secrets must not stay in caches' },
          },
          409: 'The provider refused the refresh: the account needs reconnecting (see status_reasons)',
          503: {
            description: 'The provider is down or unreachable: try again after Retry-After seconds',
            headers: { 'retry-after': 'Seconds to wait before trying again' },
          },
        },
      },
    },
    async (request, reply) => {
      // Secrets must not linger in shared caches.
      reply.header('cache-control', 'no-store');
      return getAccountCredentials(deps, projectOf(request), request.params.id);
    },
  );
};
