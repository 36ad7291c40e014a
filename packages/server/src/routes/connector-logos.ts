import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Catalogue } from '../connectors/catalogue.ts';
import { connectorLogoSvg } from '../connectors/logos.ts';
import { notFound } from '../errors.ts';

/** Public connector logos (the hub and ConnectorsMeta point at them); no key, cacheable. */
export const connectorLogoRoutes: FastifyPluginAsyncZod<{ catalogue: Catalogue }> = async (
  app,
  { catalogue },
) => {
  const cache = new Map<string, string>();
  app.get(
    '/connectors/logos/:file',
    {
      schema: {
        tags: ['Connectors'],
        summary: 'A connector logo (SVG)',
        params: z.object({ file: z.string().max(120) }),
      },
      config: { rateLimit: false },
    },
    async (request, reply) => {
      const key = request.params.file.replace(/\.svg$/, '');
      const connector = catalogue.get(key);
      if (!connector || !request.params.file.endsWith('.svg')) throw notFound(`Logo ${request.params.file}`);
      let svg = cache.get(key);
      if (!svg) {
        svg = await connectorLogoSvg(connector);
        cache.set(key, svg);
      }
      return reply
        .header('content-type', 'image/svg+xml; charset=utf-8')
        .header('cache-control', 'public, max-age=86400')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('x-content-type-options', 'nosniff')
        .send(svg);
    },
  );
};
