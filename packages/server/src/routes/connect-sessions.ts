import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { API_KEY_SECURITY, projectAuth, projectOf } from '../http/api-key-auth.ts';
import { webhookPolicy } from '../outbound/address-policy.ts';
import { errorResponses } from '../schemas/common.ts';
import {
  connectSession,
  connectSessionAuthenticate,
  connectSessionCreate,
  connectSessionTokenAuthLink,
  sessionIdParams,
} from '../schemas/connect-sessions.ts';
import {
  authenticateConnectSession,
  createConnectSession,
  revokeConnectSession,
} from '../services/connect-sessions.ts';

export const connectSessionRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  const { db } = ctx;
  const deps = {
    db,
    catalogue: ctx.catalogue,
    publicUrl: ctx.config.publicUrl,
    webhookPolicy: webhookPolicy(ctx.config.webhooks.allowedRanges),
  };
  app.addHook('onRequest', projectAuth(ctx));
  const security = API_KEY_SECURITY;

  app.post(
    '/connect_sessions',
    {
      schema: {
        tags: ['Connect Sessions'],
        summary: 'Create a connect session for one end customer',
        security,
        body: connectSessionCreate,
        response: { 201: connectSessionTokenAuthLink, ...errorResponses },
        responseDocs: {
          201: 'The session with its token (shown once) and the auth_link_url to send the end customer to',
          404: 'The integration_id or account_id given is not in this project',
        },
      },
    },
    async (request, reply) => {
      const session = await createConnectSession(deps, projectOf(request), request.body);
      return reply.status(201).send(session);
    },
  );

  app.post(
    '/connect_sessions/authenticate',
    {
      schema: {
        tags: ['Connect Sessions'],
        summary: 'Exchange a session token for the session it belongs to',
        security,
        body: connectSessionAuthenticate,
        response: { 201: connectSession, ...errorResponses },
        responseDocs: { 201: 'The session the token belongs to (without the token)' },
      },
    },
    async (request, reply) => {
      const session = await authenticateConnectSession(db, projectOf(request), request.body.token);
      return reply.status(201).send(session);
    },
  );

  app.delete(
    '/connect_sessions/:id',
    {
      schema: {
        tags: ['Connect Sessions'],
        summary: 'Revoke a connect session: its token stops working at once',
        security,
        params: sessionIdParams,
        response: { 204: z.null(), ...errorResponses },
        responseDocs: { 204: 'Revoked: the token is refused from now on' },
      },
    },
    async (request, reply) => {
      await revokeConnectSession(db, projectOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
