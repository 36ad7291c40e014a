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
 * Hub calls carry the session token in `x-hub-session-token`. CORS preflights (OPTIONS) never carry
 * it, so they pass through to the CORS handler untouched.
 */
export function hubSessionAuth(db: Db, publicUrl: string): onRequestHookHandler {
  const ownOrigin = new URL(publicUrl).origin;
  return async function authenticate(request) {
    if (request.method === 'OPTIONS') return;
    const throttle = this.authThrottle;
    const header = request.headers['x-hub-session-token'];
    const token =
      typeof header === 'string' && header.length > 0 && header.length <= 512 ? header : undefined;
    // A cached usable session is not a lookup: the throttle, which protects lookups, is skipped.
    let session = token ? cachedUsableSession(db, token) : undefined;
    if (!session) {
      await throttle.check(request, 'session_token', token);
      session = token ? await findUsableSession(db, undefined, token) : undefined;
    }
    if (!session) {
      await throttle.recordFailure(request, 'session_token', token);
      throw unauthorized(INVALID_SESSION_TOKEN);
    }
    // A session bound to origins refuses browsers on other pages (Plugboard's own hosted page is fine).
    // Same-origin GETs carry no Origin header, so only a present, foreign Origin is refused.
    const origin = request.headers.origin;
    if (
      session.allowed_origins &&
      origin &&
      origin !== ownOrigin &&
      !session.allowed_origins.includes(origin)
    ) {
      throw new DomainError('forbidden', `This connect session cannot be used from ${origin}.`);
    }
    request.hubSession = session;
  };
}

export function hubSessionOf(request: FastifyRequest): ConnectSessionRow {
  if (!request.hubSession) throw unauthorized(INVALID_SESSION_TOKEN);
  return request.hubSession;
}
