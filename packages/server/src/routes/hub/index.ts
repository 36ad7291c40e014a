import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { registerHubCors } from '../../http/hub-cors.ts';
import { hubSessionAuth } from '../../http/hub-session-auth.ts';
import { hubAccountRoutes } from './accounts.ts';
import { hubAttemptRoutes } from './connection-attempts.ts';
import { hubConnectorRoutes } from './connectors.ts';

/**
 * The hub protocol, called from browsers with the session token. CORS answers preflights for the
 * configured origins without the token (browsers never send custom headers on a preflight).
 */
export const hubRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  registerHubCors(app, ctx.config.hubAllowedOrigins);
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
