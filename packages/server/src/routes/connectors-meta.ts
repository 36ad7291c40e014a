import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { API_KEY_SECURITY, projectAuth, projectOf } from '../http/api-key-auth.ts';
import { connectorsMeta } from '../schemas/accounts.ts';
import { errorResponses } from '../schemas/common.ts';
import { connectorMeta, projectActiveConnectors } from '../services/connectors-meta.ts';

const include = z.object({ include: z.string().max(500).optional() });

export const connectorsMetaRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  app.addHook('onRequest', projectAuth(ctx));
  const common = { tags: ['Connectors'], security: API_KEY_SECURITY, querystring: include };

  app.get(
    '/connectors/meta',
    {
      schema: {
        ...common,
        summary: 'Every connector',
        response: { 200: z.array(connectorsMeta), ...errorResponses },
        responseDocs: { 200: 'The catalogue; `active` says whether this project has enabled the connector' },
      },
    },
    async (request) => {
      const active = await projectActiveConnectors(ctx.db, projectOf(request).projectId);
      return ctx.catalogue.list().map((c) => connectorMeta(c, active, ctx.config.publicUrl));
    },
  );

  app.get(
    '/connectors/meta/:provider',
    {
      schema: {
        ...common,
        summary: 'One connector',
        params: z.object({ provider: z.string().max(100) }),
        response: { 200: connectorsMeta, ...errorResponses },
        responseDocs: { 200: 'The connector', 404: 'No connector has this key' },
      },
    },
    async (request) => {
      const connector = ctx.catalogue.get(request.params.provider);
      if (!connector) throw notFound(`Connector ${request.params.provider}`);
      const active = await projectActiveConnectors(ctx.db, projectOf(request).projectId);
      return connectorMeta(connector, active, ctx.config.publicUrl);
    },
  );
};
