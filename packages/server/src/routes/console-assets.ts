import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { errorBody } from '../http/error-body.ts';
import { CONSOLE_DIST_DIR } from '../install-paths.ts';

/** The console's production build (packages/console, `npm run build`). */
export const CONSOLE_DIST = CONSOLE_DIST_DIR;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the console SPA at /console: hashed assets under /console/assets/, and index.html for every
 * other /console path so a view's URL still works after a reload (the SPA routes it).
 */
export const consoleAssetRoutes: FastifyPluginAsync<{ config: Config; distDir?: string }> = async (
  app,
  { config, distDir = CONSOLE_DIST },
) => {
  const indexFile = path.join(distDir, 'index.html');
  const base = `${new URL(config.publicUrl).pathname.replace(/\/+$/, '')}/console/`;
  const index = fs.existsSync(indexFile)
    ? fs.readFileSync(indexFile, 'utf8').replace('<head>', `<head><base href="${base}">`)
    : undefined;
  if (!index) app.log.warn(`console build missing at ${distDir}: run "npm run build" to serve /console`);
  const headers = {
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  };

  app.get('/console/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const file = path.join(distDir, 'assets', path.basename(name));
    if (name.includes('/') || !fs.existsSync(file))
      return reply.status(404).send(errorBody(404, `No console asset ${name}.`));
    return reply
      .headers({ ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' })
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(fs.readFileSync(file));
  });

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    // An unknown API path is an API error, not the app.
    if (request.url.startsWith('/console/api/'))
      return reply
        .status(404)
        .send(errorBody(404, `No console API route for ${request.method} ${request.url.split('?')[0]}.`));
    if (!index)
      return reply
        .status(503)
        .send(errorBody(503, 'The console is not built: run "npm run build" and restart.'));
    return reply
      .headers({ ...headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .send(index);
  };
  app.get('/console', { schema: { hide: true } }, page);
  app.get('/console/*', { schema: { hide: true } }, page);
};
