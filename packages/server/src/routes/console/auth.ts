import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { DomainError } from '../../errors.ts';
import { consoleSessionAuth, operatorOf, setSessionCookie } from '../../http/console-session.ts';
import { errorResponses } from '../../schemas/common.ts';
import { passwordChangeBody, sessionInfo, signInBody } from '../../schemas/console.ts';
import { changePassword } from '../../services/console/password-change.ts';
import { closeSession } from '../../services/console/sessions.ts';
import { signIn } from '../../services/console/sign-in.ts';

/** Sign in, who am I, sign out, change password. */
export const consoleAuthRoutes: FastifyPluginAsyncZod<AppContext> = async (app, { db, config }) => {
  const deps = { db, config: config.console };
  const requireSession = consoleSessionAuth(db, config);

  app.post(
    '/session',
    { schema: { body: signInBody, response: { 201: sessionInfo, ...errorResponses } } },
    async (request, reply) => {
      // A login form posted from another site would sign the victim in as the attacker.
      const origin = request.headers.origin;
      if (
        origin !== undefined &&
        origin !== new URL(config.publicUrl).origin &&
        origin !== `${request.protocol}://${request.headers.host}`
      )
        throw new DomainError('forbidden', 'Cross-site sign-in refused: sign in from the console itself.');
      const { session, operator } = await signIn(deps, { ...request.body, address: request.ip });
      setSessionCookie(reply, config, session.token, session.expiresAt);
      return reply.status(201).send({ operator, csrf_token: session.csrfToken });
    },
  );

  app.get(
    '/session',
    { onRequest: requireSession, schema: { response: { 200: sessionInfo, ...errorResponses } } },
    async (request) => {
      const { operator, csrfToken } = operatorOf(request);
      return { operator, csrf_token: csrfToken };
    },
  );

  app.delete('/session', { onRequest: requireSession }, async (request, reply) => {
    await closeSession(db, operatorOf(request).sessionHash);
    setSessionCookie(reply, config, '');
    return reply.status(204).send();
  });

  app.post(
    '/session/password',
    { onRequest: requireSession, schema: { body: passwordChangeBody } },
    async (request, reply) => {
      const signedIn = operatorOf(request);
      await changePassword(db, {
        operatorId: signedIn.operator.id,
        sessionHash: signedIn.sessionHash,
        current: request.body.current_password,
        next: request.body.new_password,
      });
      return reply.status(204).send();
    },
  );
};
