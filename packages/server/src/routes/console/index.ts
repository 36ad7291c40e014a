import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { AppContext } from '../../context.ts';
import { DomainError } from '../../errors.ts';
import { consoleSessionAuth, operatorOf } from '../../http/console-session.ts';
import { projectContext } from '../../services/tenancy.ts';
import { accountRoutes } from '../accounts.ts';
import { authConfigRoutes } from '../auth-configs.ts';
import { connectSessionRoutes } from '../connect-sessions.ts';
import { connectionAttemptRoutes } from '../connection-attempts.ts';
import { connectorsMetaRoutes } from '../connectors-meta.ts';
import { webhookEndpointRoutes } from '../webhook-endpoints.ts';
import { consoleAuthRoutes } from './auth.ts';
import { consoleExtraRoutes } from './extras.ts';
import { consoleKeyRotationRoutes } from './key-rotation.ts';
import { consoleProjectRoutes } from './projects.ts';

/** The platform API's route plugins, mounted again per project for the console: same schemas, services and errors. */
const PLATFORM_PLUGINS = [
  authConfigRoutes,
  accountRoutes,
  connectSessionRoutes,
  connectionAttemptRoutes,
  connectorsMetaRoutes,
  webhookEndpointRoutes,
];

/**
 * The console API under /console/api: cookie sessions instead of API keys. Project-scoped routes take
 * the project from the path and act as the signed-in operator, which the audit log records.
 */
export const consoleApiRoutes: FastifyPluginAsync<AppContext & { prefix?: string }> = async (
  app,
  { prefix: _mountedAt, ...ctx },
) => {
  // The console API is for the console; the OpenAPI document describes the platform API only.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  await app.register(consoleAuthRoutes, ctx);

  await app.register(async (signedIn) => {
    signedIn.addHook('onRequest', consoleSessionAuth(ctx.db, ctx.config));
    await signedIn.register(consoleProjectRoutes, ctx);
    await signedIn.register(consoleExtraRoutes, ctx);
    await signedIn.register(consoleKeyRotationRoutes, ctx);
    const operatorProject: onRequestHookHandler = async (request) => {
      // Decrypted credentials are for the integrator's backend (API key), never shown in a browser.
      if (request.routeOptions.url?.endsWith('/credentials'))
        throw new DomainError(
          'forbidden',
          'The console never shows decrypted credentials; use the API with a project key.',
        );
      const { projectId } = request.params as { projectId: string };
      const project = await projectContext(ctx.db, projectId);
      request.project = {
        ...project,
        apiKeyId: 'console',
        actor: { type: 'operator', id: operatorOf(request).operator.email },
      };
    };
    for (const plugin of PLATFORM_PLUGINS)
      await signedIn.register(plugin, {
        ...ctx,
        projectAuth: operatorProject,
        prefix: '/projects/:projectId',
      });
  });
};
