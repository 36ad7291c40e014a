import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { HUB_SECURITY, hubSessionOf } from '../../http/hub-session-auth.ts';
import { errorResponses } from '../../schemas/common.ts';
import { hubAttempt as attempt } from '../../schemas/connection-attempts.ts';
import { EXAMPLE } from '../../schemas/examples.ts';
import {
  cancelAttempt,
  createAttempt,
  sessionAttempt,
  toHubAttempt,
} from '../../services/connection-attempts.ts';

const params = z.object({ id: z.string().min(1).max(100) });

export const hubAttemptRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  const tags = ['Hub'];
  const security = HUB_SECURITY;

  app.post(
    '/connection_attempts',
    {
      schema: {
        tags,
        summary: 'Start a connection attempt (before opening the OAuth popup)',
        // The token is also in the body for StackOne's hub; the header already authenticated the call.
        security,
        body: z
          .object({ token: z.string().max(512).optional() })
          .meta({ examples: [{ token: EXAMPLE.sessionToken }] })
          .nullish(),
        response: {
          201: z.object({ id: z.string() }).meta({ examples: [{ id: EXAMPLE.attemptId }] }),
          ...errorResponses,
        },
        responseDocs: {
          201: 'The attempt, pending; pass its id to the OAuth start URL',
          400: {
            description: 'The body is not an object with an optional `token` string',
            example: {
              statusCode: 400,
              message: 'Invalid request: body.token: Too big: expected string to have <=512 characters',
              timestamp: EXAMPLE.created,
              errors: ['body.token: Too big: expected string to have <=512 characters'],
            },
          },
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send({ id: (await createAttempt(ctx.db, hubSessionOf(request))).id }),
  );

  app.get(
    '/connection_attempts/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Poll an attempt',
        params,
        response: { 200: attempt, ...errorResponses },
        responseDocs: {
          200: 'Pending until the OAuth flow ends; then authenticated with the account, or error with the code',
        },
      },
    },
    async (request) => toHubAttempt(await sessionAttempt(ctx.db, hubSessionOf(request), request.params.id)),
  );

  app.delete(
    '/connection_attempts/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Cancel an attempt',
        params,
        response: { 204: z.null(), ...errorResponses },
        responseDocs: { 204: 'Cancelled (the user closed the popup or went back)' },
      },
    },
    async (request, reply) => {
      await cancelAttempt(ctx.db, hubSessionOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
