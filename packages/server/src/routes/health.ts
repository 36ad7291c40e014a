import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../db/database.ts';
import { errorBody } from '../http/error-body.ts';
import type { Lifecycle } from '../http/lifecycle.ts';
import { errorResponse } from '../schemas/common.ts';

const status = z.object({ status: z.enum(['ok', 'unavailable']) }).meta({ examples: [{ status: 'ok' }] });

export const healthRoutes: FastifyPluginAsyncZod<{ db: Db; lifecycle?: Lifecycle }> = async (
  app,
  { db, lifecycle },
) => {
  const common = { tags: ['Health'], response: { 200: status, 503: errorResponse } } as const;

  app.get(
    '/health/live',
    {
      schema: {
        tags: common.tags,
        summary: 'The process is up',
        response: { 200: status },
        responseDocs: { 200: 'The process answers' },
      },
      config: { rateLimit: false },
    },
    async () => ({
      status: 'ok' as const,
    }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        ...common,
        summary: 'The database answers and the process is not shutting down',
        responseDocs: {
          200: 'Ready to serve: the database answered',
          503: 'Not ready: the database does not answer, or the process is draining before it stops; take it out of rotation',
        },
      },
      config: { rateLimit: false },
    },
    async (request, reply) => {
      if (lifecycle?.draining) {
        return reply
          .status(503)
          .send(errorBody(503, 'This process is shutting down; send new requests to another one.'));
      }
      try {
        await sql`select 1`.execute(db);
        return { status: 'ok' as const };
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        return reply.status(503).send(errorBody(503, 'The database is not reachable.'));
      }
    },
  );
};
