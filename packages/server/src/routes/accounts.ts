import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AppContext, serviceDeps } from '../context.ts';
import { API_KEY_SECURITY, apiKeyAuth, projectOf } from '../http/api-key-auth.ts';
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

export const accountRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  app.addHook('onRequest', apiKeyAuth(ctx.db));
  const deps = serviceDeps(ctx);
  const common = { tags: ['Accounts'], security: API_KEY_SECURITY };
  const byId = { ...common, params: accountIdParams };

  app.get(
    '/accounts',
    {
      schema: {
        ...common,
        summary: 'List linked accounts',
        querystring: accountListQuery,
        response: { 200: z.array(linkedAccount), ...errorResponses },
      },
    },
    async (request) => listAccounts(deps, projectOf(request), request.query),
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
        response: { 200: linkedAccount, 201: linkedAccount, ...errorResponses },
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
      },
    },
    async (request, reply) => {
      // Secrets must not linger in shared caches.
      reply.header('cache-control', 'no-store');
      return getAccountCredentials(deps, projectOf(request), request.params.id);
    },
  );
};
