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
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createIntegration(deps, projectOf(request), request.body)),
  );

  app.get(
    '/auth_configs/:id',
    { schema: { ...byId, summary: 'Get an integration', response: { 200: authConfig, ...errorResponses } } },
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
      },
    },
    async (request) => deleteIntegration(deps, projectOf(request), request.params.id),
  );
};
