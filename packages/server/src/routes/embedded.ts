import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { DomainError } from '../errors.ts';

/** The hub element's production bundle, built by `npm run build` (packages/hub). */
export const HUB_BUNDLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../hub/dist/plugboard-hub.js',
);

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Pages served to end users: the hosted connect page at `auth_link_url`, the finish page OAuth popups
 * return to, and the element's script. Strict CSP: only this origin, no inline script, and the session
 * token never leaves through a Referer header.
 */
export const embeddedRoutes: FastifyPluginAsyncZod<{ config: Config }> = async (app, { config }) => {
  const bundle = fs.existsSync(HUB_BUNDLE) ? fs.readFileSync(HUB_BUNDLE) : undefined;
  if (!bundle)
    app.log.warn(`hub bundle missing at ${HUB_BUNDLE}: run "npm run build" to serve the connect page`);
  const origins = config.hubAllowedOrigins;
  const frameAncestors = origins.includes('*') ? '*' : ["'self'", ...origins].join(' ');
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');

  const page = (title: string, body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>body{margin:0;padding:24px 12px;background:#f3f4f6;font-family:system-ui,sans-serif}@media (prefers-color-scheme:dark){body{background:#030712;color:#f3f4f6}}</style>
</head>
<body>
${body}
</body>
</html>`;

  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };

  app.get(
    '/embedded/integrations',
    {
      schema: {
        tags: ['Hub'],
        summary: 'The hosted connect page (auth_link_url)',
        querystring: z.object({
          token: z.string().max(512).optional(),
          lang: z.string().max(20).optional(),
          theme: z.enum(['light', 'dark']).optional(),
        }),
      },
    },
    async (request, reply) => {
      const { token, lang, theme } = request.query;
      const attrs = [
        `token="${escapeHtml(token ?? '')}"`,
        lang ? `lang="${escapeHtml(lang)}"` : '',
        theme ? `theme="${theme}"` : '',
      ].filter(Boolean);
      const body = token
        ? `<plugboard-hub ${attrs.join(' ')}></plugboard-hub>\n<script type="module" src="/embedded/assets/plugboard-hub.js"></script>`
        : '<p>This connect link is incomplete: ask the application for a new one.</p>';
      return reply.headers(headers).send(page('Connect an account', body));
    },
  );

  app.get(
    '/embedded/accounts/callback',
    { schema: { tags: ['Hub'], summary: 'Where OAuth popups finish' } },
    async (_request, reply) =>
      reply
        .headers(headers)
        .send(
          page('Connected', '<p role="status">You can close this window and return to the application.</p>'),
        ),
  );

  app.get(
    '/embedded/assets/plugboard-hub.js',
    { schema: { hide: true }, config: { rateLimit: false } },
    async (_request, reply) => {
      if (!bundle)
        throw new DomainError('unavailable', 'The hub bundle is not built: run "npm run build" and restart.');
      return reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .header('x-content-type-options', 'nosniff')
        .header('access-control-allow-origin', '*')
        .send(bundle);
    },
  );
};
