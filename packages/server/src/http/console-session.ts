import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Config } from '../config.ts';
import { hashSecret } from '../crypto/tokens.ts';
import type { Db } from '../db/database.ts';
import { DomainError, unauthorized } from '../errors.ts';
import { findSession, type SignedInOperator } from '../services/console/sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the console session hook: the signed-in operator. */
    operator?: SignedInOperator;
  }
}

export const SESSION_COOKIE = 'plugboard_console';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** HttpOnly, SameSite=Strict, scoped to the console, Secure whenever the public URL is https. */
export function setSessionCookie(reply: FastifyReply, config: Config, value: string, expires?: Date): void {
  const url = new URL(config.publicUrl);
  const path = `${url.pathname.replace(/\/+$/, '')}/console`;
  const parts = [
    `${SESSION_COOKIE}=${encodeURIComponent(value)}`,
    `Path=${path}`,
    'HttpOnly',
    'SameSite=Strict',
    expires ? `Expires=${expires.toUTCString()}` : 'Max-Age=0',
  ];
  if (url.protocol === 'https:') parts.push('Secure');
  reply.header('set-cookie', parts.join('; '));
}

/**
 * A browser request from another origin: refused even with a valid token, as defence in depth next to
 * the SameSite cookie and the CSRF header. Requests without Origin (curl, scripts) rely on the header.
 */
function crossOrigin(request: FastifyRequest, config: Config): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return request.headers['sec-fetch-site'] === 'cross-site';
  const own = new URL(config.publicUrl).origin;
  const host = request.headers.host ? `${request.protocol}://${request.headers.host}` : undefined;
  return origin !== own && origin !== host;
}

function sameToken(given: string, expectedHash: string): boolean {
  const a = Buffer.from(hashSecret(given), 'hex');
  const b = Buffer.from(expectedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Routes an operator with a one-time password may still use: reading who they are, and changing it. */
const ALLOWED_BEFORE_CHANGE = new Set(['/console/api/session', '/console/api/session/password']);

/**
 * Every console API route but sign-in: a live session cookie, and on unsafe methods a same-origin
 * request carrying the session's CSRF token in x-csrf-token.
 */
export function consoleSessionAuth(db: Db, config: Config): onRequestHookHandler {
  return async (request) => {
    const token = readCookie(request, SESSION_COOKIE);
    const signedIn = token ? await findSession({ db, config: config.console }, token) : undefined;
    if (!signedIn)
      throw unauthorized('You are signed out (or your session expired). Sign in again at /console.');
    if (!SAFE_METHODS.has(request.method)) {
      if (crossOrigin(request, config))
        throw new DomainError(
          'forbidden',
          'Cross-site request refused: use the console from its own address.',
        );
      const csrf = request.headers[CSRF_HEADER];
      if (typeof csrf !== 'string' || !sameToken(csrf, signedIn.csrfTokenHash))
        throw new DomainError(
          'forbidden',
          `Missing or wrong ${CSRF_HEADER} header. Reload the console; scripts should use the API with an API key instead.`,
        );
    }
    if (signedIn.operator.must_change_password && !ALLOWED_BEFORE_CHANGE.has(request.routeOptions.url ?? ''))
      throw new DomainError('forbidden', 'Change your one-time password first (Account → Change password).');
    request.operator = signedIn;
  };
}

export function operatorOf(request: FastifyRequest): SignedInOperator {
  if (!request.operator) throw unauthorized('Sign in at /console.');
  return request.operator;
}
