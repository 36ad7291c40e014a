import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { API_KEY_SECURITY, projectAuth, projectOf } from '../http/api-key-auth.ts';
import { errorResponses, pagination, storableString } from '../schemas/common.ts';
import { EXAMPLE } from '../schemas/examples.ts';
import { listAttempts } from '../services/connection-attempts.ts';

const attempt = z
  .object({
    id: z.string(),
    status: z.enum(['pending', 'authenticated', 'error', 'cancelled', 'expired']),
    account: z.object({ id: z.string() }).nullable(),
    error: z.object({ code: z.string(), description: z.string() }).nullable(),
    connect_session_id: z.number(),
    origin_owner_id: z.string(),
    integration_id: z.string().nullable(),
    provider: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({
    examples: [
      {
        id: EXAMPLE.attemptId,
        status: 'authenticated',
        account: { id: EXAMPLE.accountId },
        error: null,
        connect_session_id: 1842,
        origin_owner_id: 'customer-42',
        integration_id: EXAMPLE.integrationId,
        provider: 'bamboohr',
        created_at: EXAMPLE.created,
        updated_at: EXAMPLE.updated,
      },
    ],
  });

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
