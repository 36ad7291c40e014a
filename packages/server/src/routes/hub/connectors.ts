import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type AppContext, serviceDeps } from '../../context.ts';
import { hubSessionOf } from '../../http/hub-session-auth.ts';
import { errorResponses } from '../../schemas/common.ts';
import {
  hubConnectorConfig as configSchema,
  hubConnectorList,
  hubConnectorParams,
  hubConnectorQuery,
  hubSettings as settingsSchema,
} from '../../schemas/hub.ts';
import {
  hubConnectorConfig,
  hubSettings,
  hubConnectorList as listConnectors,
} from '../../services/hub-connectors.ts';

export const hubConnectorRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  const deps = serviceDeps(ctx);
  const tags = ['Hub'];

  app.get(
    '/settings',
    {
      schema: {
        tags,
        summary: 'Hub settings for this session',
        response: { 200: settingsSchema, ...errorResponses },
      },
    },
    async (request) => hubSettings(deps, hubSessionOf(request)),
  );

  app.get(
    '/connectors',
    {
      schema: {
        tags,
        summary: 'Connectors this session may use',
        querystring: hubConnectorQuery,
        response: { 200: hubConnectorList, ...errorResponses },
      },
    },
    async (request) => listConnectors(deps, hubSessionOf(request), request.query.provider),
  );

  app.get(
    '/connectors/:integration_id',
    {
      schema: {
        tags,
        summary: 'The connect form of one integration',
        params: hubConnectorParams,
        response: { 200: configSchema, ...errorResponses },
      },
    },
    async (request) => hubConnectorConfig(deps, hubSessionOf(request), request.params.integration_id),
  );
};
