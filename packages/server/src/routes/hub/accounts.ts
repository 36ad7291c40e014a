import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type AppContext, serviceDeps } from '../../context.ts';
import { hubSessionOf } from '../../http/hub-session-auth.ts';
import { errorResponses } from '../../schemas/common.ts';
import {
  hubAccount as accountSchema,
  hubAccountCreate,
  hubAccountCreated,
  hubAccountParams,
} from '../../schemas/hub.ts';
import { connectAccount, hubAccount, hubUpdateAccount } from '../../services/hub-accounts.ts';

const providerErrors = { ...errorResponses, 502: errorResponses[400], 504: errorResponses[400] };

export const hubAccountRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  const deps = serviceDeps(ctx);
  const tags = ['Hub'];

  app.post(
    '/accounts',
    {
      schema: {
        tags,
        summary: 'Connect an account with the credentials typed into the form',
        body: hubAccountCreate,
        response: { 201: hubAccountCreated, ...providerErrors },
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
        params: hubAccountParams,
        response: { 200: accountSchema, ...errorResponses },
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
        body: hubAccountCreate,
        response: { 200: hubAccountCreated, ...providerErrors },
      },
    },
    async (request) => hubUpdateAccount(deps, hubSessionOf(request), request.params.id, request.body),
  );
};
