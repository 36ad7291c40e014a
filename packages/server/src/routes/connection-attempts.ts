import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { API_KEY_SECURITY, projectAuth, projectOf } from '../http/api-key-auth.ts';
import { errorResponses, pagination, storableString } from '../schemas/common.ts';
import { connectionAttempt as attempt } from '../schemas/connection-attempts.ts';
import { listAttempts } from '../services/connection-attempts.ts';

/** Beyond the reference: abandoned, failed and successful connects per end customer. */
export const connectionAttemptRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  app.addHook('onRequest', projectAuth(ctx));
  app.get(
    '/connection_attempts',
    {
      schema: {
        tags: ['Connection attempts'],
        summary: 'Connection attempts, newest first',
        security: API_KEY_SECURITY,
        querystring: z.object({ origin_owner_id: storableString(255).optional(), ...pagination }),
        response: { 200: z.array(attempt), ...errorResponses },
        responseDocs: { 200: 'One page of attempts (a bare JSON array), newest first' },
      },
    },
    async (request) => listAttempts(ctx.db, projectOf(request), request.query),
  );
};
