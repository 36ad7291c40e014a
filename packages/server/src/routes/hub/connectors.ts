import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { hubReads } from '../../cache/hub-reads.ts';
import { type AppContext, serviceDeps } from '../../context.ts';
import { HUB_SECURITY } from '../../http/hub-session-auth.ts';
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
  const security = HUB_SECURITY;
  const reads = hubReads(app, deps.db);

  app.get(
    '/settings',
    {
      schema: {
        tags,
        summary: 'Hub settings for this session',
        security,
        response: { 200: settingsSchema, ...errorResponses },
        responseDocs: {
          200: 'Features for this session; existing_account_id switches the hub to editing that account',
        },
      },
      config: reads.routeConfig,
    },
    (request, reply) => reads.send(request, reply, settingsSchema, (session) => hubSettings(deps, session)),
  );

  app.get(
    '/connectors',
    {
      schema: {
        tags,
        summary: 'Connectors this session may use',
        security,
        querystring: hubConnectorQuery,
        response: { 200: hubConnectorList, ...errorResponses },
        responseDocs: {
          200: "The integrations the session allows, one per connector, not wrapped in `data`; names in the hub's language when `lang` is given",
        },
      },
      config: reads.routeConfig,
    },
    (request, reply) =>
      reads.send(request, reply, hubConnectorList, (session) => listConnectors(deps, session, request.query)),
  );

  app.get(
    '/connectors/:integration_id',
    {
      schema: {
        tags,
        summary: 'The connect form of one integration',
        security,
        params: hubConnectorParams,
        querystring: hubConnectorQuery.pick({ lang: true }),
        response: { 200: configSchema, ...errorResponses },
        responseDocs: {
          200: "The connect form, wrapped in `config`: fields, notices and help, in the hub's language when `lang` is given",
          404: 'The integration is not one this session may use',
        },
      },
      config: reads.routeConfig,
    },
    (request, reply) =>
      reads.send(request, reply, configSchema, (session) =>
        hubConnectorConfig(deps, session, request.params.integration_id, request.query.lang),
      ),
  );
};
