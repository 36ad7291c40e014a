import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../db/database.ts';
import { errorBody } from '../http/error-body.ts';
import { errorResponse } from '../schemas/common.ts';

const status = z.object({ status: z.enum(['ok', 'unavailable']) }).meta({ examples: [{ status: 'ok' }] });

export const healthRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
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
        summary: 'The database answers',
        responseDocs: {
          200: 'Ready to serve: the database answered',
          503: 'Not ready: the database does not answer; take this process out of rotation',
        },
      },
      config: { rateLimit: false },
    },
    async (request, reply) => {
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
