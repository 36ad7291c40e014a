import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Db } from '../db/database.ts';
import type { ConnectSessionRow } from '../db/schema.ts';
import { DomainError, unauthorized } from '../errors.ts';
import {
  cachedUsableSession,
  findUsableSession,
  INVALID_SESSION_TOKEN,
} from '../services/connect-sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on /hub/* routes: the connect session whose token the browser presented. */
    hubSession?: ConnectSessionRow;
  }
}

/** OpenAPI security requirement of every /hub/* route: the session token header. */
export const HUB_SECURITY: Array<Record<string, string[]>> = [{ hubSession: [] }];

/**
 * Whether `session` refuses a browser on `origin`: a session bound to origins refuses other pages. Same-origin
 * GETs carry no Origin header, so only a present, foreign Origin is refused (Plugboard's own hosted page,
 * on `publicUrl`, is fine). Shared with the hub read lane (hub-read-lane.ts).
 */
export function sessionOriginCheck(
  publicUrl: string,
): (session: ConnectSessionRow, origin: string | undefined) => boolean {
  const ownOrigin = new URL(publicUrl).origin;
  return (session, origin) =>
    !!session.allowed_origins &&
    !!origin &&
    origin !== ownOrigin &&
    !session.allowed_origins.includes(origin);
}

/**
 * The session token a hub call presents in `x-hub-session-token`, if it could be one: longer values are
 * never looked up. Shared with the hub read lane (hub-read-lane.ts).
 */
export function presentedSessionToken(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-hub-session-token'];
  return typeof header === 'string' && header.length > 0 && header.length <= 512 ? header : undefined;
}

/**
 * Hub calls carry the session token in `x-hub-session-token`. CORS preflights (OPTIONS) never carry it;
 * registerHubCors answers them before this hook, which lets any OPTIONS through untouched.
 */
export function hubSessionAuth(db: Db, publicUrl: string): onRequestHookHandler {
  const refusesOrigin = sessionOriginCheck(publicUrl);
  /** Sets the request's session, or refuses it: a session bound to origins refuses other pages' browsers. */
  const admit = (request: FastifyRequest, session: ConnectSessionRow): DomainError | undefined => {
    const origin = request.headers.origin;
    if (refusesOrigin(session, origin)) {
      return new DomainError('forbidden', `This connect session cannot be used from ${origin}.`);
    }
    request.hubSession = session;
    return undefined;
  };
  const lookUp = async (request: FastifyRequest, token: string | undefined): Promise<void> => {
    const throttle = request.server.authThrottle;
    await throttle.check(request, 'session_token', token);
    const session = token ? await findUsableSession(db, undefined, token) : undefined;
    if (!session) {
      await throttle.recordFailure(request, 'session_token', token);
      throw unauthorized(INVALID_SESSION_TOKEN);
    }
    const refused = admit(request, session);
    if (refused) throw refused;
  };
  // A callback hook: the common case, a session this process has cached, completes without a promise.
  return function authenticate(request, _reply, done) {
    if (request.method === 'OPTIONS') return done();
    const token = presentedSessionToken(request.headers);
    // A cached usable session is not a lookup: the throttle, which protects lookups, is skipped.
    const cached = token ? cachedUsableSession(db, token) : undefined;
    if (cached) return done(admit(request, cached));
    lookUp(request, token).then(() => done(), done);
  };
}

export function hubSessionOf(request: FastifyRequest): ConnectSessionRow {
  if (!request.hubSession) throw unauthorized(INVALID_SESSION_TOKEN);
  return request.hubSession;
}
