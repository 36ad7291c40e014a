import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Db } from '../db/database.ts';
import type { ConnectSessionRow } from '../db/schema.ts';
import { unauthorized } from '../errors.ts';
import { findUsableSession, INVALID_SESSION_TOKEN } from '../services/connect-sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on /hub/* routes: the connect session whose token the browser presented. */
    hubSession?: ConnectSessionRow;
  }
}

/**
 * Hub calls carry the session token in `x-hub-session-token`. CORS preflights (OPTIONS) never carry
 * it, so they pass through to the CORS handler untouched.
 */
export function hubSessionAuth(db: Db): onRequestHookHandler {
  return async (request) => {
    if (request.method === 'OPTIONS') return;
    const token = request.headers['x-hub-session-token'];
    if (typeof token !== 'string' || token.length === 0 || token.length > 512)
      throw unauthorized(INVALID_SESSION_TOKEN);
    const session = await findUsableSession(db, undefined, token);
    if (!session) throw unauthorized(INVALID_SESSION_TOKEN);
    request.hubSession = session;
  };
}

export function hubSessionOf(request: FastifyRequest): ConnectSessionRow {
  if (!request.hubSession) throw unauthorized(INVALID_SESSION_TOKEN);
  return request.hubSession;
}
