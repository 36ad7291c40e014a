import cors from '@fastify/cors';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { validationFailed } from '../../errors.ts';
import { hubSessionAuth } from '../../http/hub-session-auth.ts';
import { hubAccountRoutes } from './accounts.ts';
import { hubAttemptRoutes } from './connection-attempts.ts';
import { hubConnectorRoutes } from './connectors.ts';

/**
 * The hub protocol, called from browsers with the session token. CORS answers preflights for the
 * configured origins without the token (browsers never send custom headers on a preflight).
 */
export const hubRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  const origins = ctx.config.hubAllowedOrigins;
  // The CORS plugin refuses an OPTIONS that is not a real preflight with a text/plain 400; this
  // refuses it first, in the wire shape, saying what is missing.
  app.addHook('onRequest', (request, _reply, done) => {
    if (
      request.method !== 'OPTIONS' ||
      (request.headers.origin && request.headers['access-control-request-method'])
    )
      return done();
    done(
      validationFailed(
        'OPTIONS on /hub/* is a CORS preflight: send Origin and Access-Control-Request-Method.',
        ['headers: origin and access-control-request-method are required'],
      ),
    );
  });
  await app.register(cors, {
    origin: origins.includes('*') ? true : origins,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['content-type', 'x-hub-session-token', 'x-hub-version'],
    maxAge: 600,
  });
  app.addHook('onRequest', hubSessionAuth(ctx.db, ctx.config.publicUrl));
  // Pass the context without the `prefix` option this plugin was registered with.
  const deps: AppContext = {
    config: ctx.config,
    db: ctx.db,
    vault: ctx.vault,
    catalogue: ctx.catalogue,
    outbound: ctx.outbound,
  };
  await app.register(hubConnectorRoutes, deps);
  await app.register(hubAccountRoutes, deps);
  await app.register(hubAttemptRoutes, deps);
};
