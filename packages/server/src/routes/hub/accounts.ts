import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type AppContext, serviceDeps } from '../../context.ts';
import { HUB_SECURITY, hubSessionOf } from '../../http/hub-session-auth.ts';
import { errorResponses } from '../../schemas/common.ts';
import { EXAMPLE } from '../../schemas/examples.ts';
import {
  hubAccount as accountSchema,
  hubAccountCreate,
  hubAccountCreated,
  hubAccountParams,
} from '../../schemas/hub.ts';
import { connectAccount, hubAccount, hubUpdateAccount } from '../../services/hub-accounts.ts';

const credentialsRefused = {
  statusCode: 400,
  message: 'BambooHR rejected these credentials (HTTP 401). Check them and try again.',
  timestamp: EXAMPLE.created,
  provider_response: '{"error":"Invalid API key"}',
};

const providerErrors = { ...errorResponses, 502: errorResponses[400], 504: errorResponses[400] };

export const hubAccountRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  const deps = serviceDeps(ctx);
  const tags = ['Hub'];
  const security = HUB_SECURITY;

  app.post(
    '/accounts',
    {
      schema: {
        tags,
        summary: 'Connect an account with the credentials typed into the form',
        security,
        body: hubAccountCreate,
        response: { 201: hubAccountCreated, ...providerErrors },
        responseDocs: {
          201: 'The provider accepted the credentials: the new (or re-connected) account',
          400: {
            description:
              'Invalid form values, or the provider refused the credentials: its answer is in `provider_response`',
            example: credentialsRefused,
          },
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await connectAccount(deps, hubSessionOf(request), request.body)),
  );

  app.get(
    '/accounts/:id',
    {
      schema: {
        tags,
        summary: 'The account this session edits, secrets masked',
        security,
        params: hubAccountParams,
        response: { 200: accountSchema, ...errorResponses },
        responseDocs: {
          200: 'The account in camelCase, each secret masked as `__secretvalue:**redacted**` plus its last four characters',
          404: 'Not the account this session edits',
        },
      },
    },
    async (request) => hubAccount(deps, hubSessionOf(request), request.params.id),
  );

  app.patch(
    '/accounts/:id',
    {
      schema: {
        tags,
        summary: 'Re-connect the account; omitted or masked secrets keep their stored values',
        params: hubAccountParams,
        security,
        body: hubAccountCreate,
        response: { 200: hubAccountCreated, ...providerErrors },
        responseDocs: {
          200: 'The provider accepted the credentials: the account, same id',
          400: {
            description:
              'Invalid form values, or the provider refused the credentials: its answer is in `provider_response`',
            example: credentialsRefused,
          },
          404: 'Not the account this session edits',
        },
      },
    },
    async (request) => hubUpdateAccount(deps, hubSessionOf(request), request.params.id, request.body),
  );
};
