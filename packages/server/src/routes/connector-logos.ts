import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Catalogue } from '../connectors/catalogue.ts';
import { connectorLogoSvg } from '../connectors/logos.ts';
import { notFound } from '../errors.ts';

interface Logo {
  svg: string;
  etag: string;
}

const LOGO_FILE = /^([a-z0-9][a-z0-9_-]*)\.svg$/;

/**
 * Public connector logos: the hub and ConnectorsMeta point <img> tags here, so there is no key, the
 * answer is cacheable, and the SVG is sandboxed by its own CSP (opened directly, it can run nothing).
 */
export const connectorLogoRoutes: FastifyPluginAsyncZod<{ catalogue: Catalogue }> = async (
  app,
  { catalogue },
) => {
  // Bounded by the catalogue's size: only known keys are ever cached.
  const cache = new Map<string, Logo>();
  const logoOf = (key: string): Logo | undefined => {
    const cached = cache.get(key);
    if (cached) return cached;
    const connector = catalogue.get(key);
    if (!connector) return undefined;
    const svg = connectorLogoSvg(connector);
    const logo = { svg, etag: `"${createHash('sha256').update(svg).digest('base64url').slice(0, 27)}"` };
    cache.set(key, logo);
    return logo;
  };

  app.get(
    '/connectors/logos/:file',
    {
      schema: {
        tags: ['Connectors'],
        summary: 'A connector logo (SVG)',
        description:
          'The brand mark of the connector, or a monogram when no brand icon is available. `file` is `<connector key>.svg`.',
        params: z.object({ file: z.string().meta({ examples: ['bamboohr.svg'] }) }),
        responseDocs: {
          200: {
            description:
              'The SVG, cacheable for a day; it carries its own restrictive Content-Security-Policy',
            headers: { etag: 'Revalidate with If-None-Match to get a 304' },
            content: {
              type: 'image/svg+xml',
              example:
                '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><title>BambooHR</title><path d="…"/></svg>',
            },
          },
          304: 'Not modified: the If-None-Match header named the current ETag',
          404: {
            description: 'No connector has this key',
            example: {
              statusCode: 404,
              message: 'The logo "nope.svg" was not found in this project.',
              timestamp: '2026-11-25T10:00:00.000Z',
            },
          },
        },
      },
      config: { rateLimit: false },
    },
    async (request, reply) => {
      const key = LOGO_FILE.exec(request.params.file)?.[1];
      const logo = key ? logoOf(key) : undefined;
      if (!logo) throw notFound(`The logo "${request.params.file}"`);
      reply
        .header('cache-control', 'public, max-age=86400, stale-while-revalidate=604800')
        .header('etag', logo.etag)
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-resource-policy', 'cross-origin');
      if (request.headers['if-none-match'] === logo.etag) return reply.status(304).send();
      return reply.type('image/svg+xml; charset=utf-8').send(logo.svg);
    },
  );
};
