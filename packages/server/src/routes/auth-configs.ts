import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type AppContext, serviceDeps } from '../context.ts';
import { API_KEY_SECURITY, projectAuth, projectOf } from '../http/api-key-auth.ts';
import {
  authConfig,
  authConfigCreate,
  authConfigIdParams,
  authConfigList,
  authConfigListQuery,
  authConfigUpdate,
} from '../schemas/auth-configs.ts';
import { errorResponses } from '../schemas/common.ts';
import {
  createIntegration,
  deleteIntegration,
  getIntegration,
  listIntegrations,
  updateIntegration,
} from '../services/integrations.ts';

export const authConfigRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  app.addHook('onRequest', projectAuth(ctx));
  const deps = serviceDeps(ctx);
  const common = { tags: ['Auth configs'], security: API_KEY_SECURITY };
  const byId = { ...common, params: authConfigIdParams };

  app.get(
    '/auth_configs',
    {
      schema: {
        ...common,
        summary: "List the project's integrations (auth configs)",
        querystring: authConfigListQuery,
        response: { 200: authConfigList, ...errorResponses },
        responseDocs: { 200: 'One page of integrations with the total count' },
      },
    },
    async (request) => listIntegrations(deps, projectOf(request), request.query),
  );

  app.post(
    '/auth_configs',
    {
      schema: {
        ...common,
        summary: 'Enable a connector in the project',
        body: authConfigCreate,
        response: { 201: authConfig, ...errorResponses },
        responseDocs: {
          201: 'The new integration; its id is the integration_id sessions and accounts refer to',
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createIntegration(deps, projectOf(request), request.body)),
  );

  app.get(
    '/auth_configs/:id',
    {
      schema: {
        ...byId,
        summary: 'Get an integration',
        response: { 200: authConfig, ...errorResponses },
        responseDocs: { 200: 'The integration (its OAuth client secret is never returned)' },
      },
    },
    async (request) => getIntegration(deps, projectOf(request), request.params.id),
  );

  app.patch(
    '/auth_configs/:id',
    {
      schema: {
        ...byId,
        summary: 'Update an integration',
        body: authConfigUpdate,
        response: { 200: authConfig, ...errorResponses },
        responseDocs: { 200: 'The integration after the change' },
      },
    },
    async (request) => updateIntegration(deps, projectOf(request), request.params.id, request.body),
  );

  app.delete(
    '/auth_configs/:id',
    {
      schema: {
        ...byId,
        summary: 'Delete an integration no account uses',
        response: { 200: authConfig, ...errorResponses },
        responseDocs: {
          200: 'The deleted integration, as it was',
          409: 'Linked accounts still use this integration: delete them first, or disable it instead',
        },
      },
    },
    async (request) => deleteIntegration(deps, projectOf(request), request.params.id),
  );
};
