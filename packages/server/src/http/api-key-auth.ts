import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { cachesOf } from '../cache/data-caches.ts';
import { hashSecret } from '../crypto/tokens.ts';
import type { Db } from '../db/database.ts';
import { unauthorized } from '../errors.ts';
import { findProjectByKeyHash, type ProjectContext } from '../services/tenancy.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the API key hook on platform routes: the project the caller acts for. */
    project?: ProjectContext;
    /** And the SHA-256 of the key it presented (the rate limiter's bucket; never the key itself). */
    apiKeyHash?: string;
  }
}

/** OpenAPI security requirement of every platform route: Basic (key as username) or Bearer. */
export const API_KEY_SECURITY: Array<Record<string, string[]>> = [{ basic: [] }, { bearer: [] }];

const MISSING =
  'Missing API key: send it as HTTP Basic username (empty password) or as "Authorization: Bearer <key>".';
const INVALID = 'Invalid or revoked API key.';

/**
 * Reads the API key from the Authorization header. StackOne's clients send HTTP Basic with the key as
 * username and an empty password ("key:"); some tools drop the colon; others use Bearer.
 */
export function apiKeyFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (!value) return undefined;
  if (scheme === 'bearer') return value;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = colon < 0 ? decoded : decoded.slice(0, colon);
  return username || undefined;
}

export function apiKeyAuth(db: Db): onRequestHookHandler {
  return async function authenticate(request) {
    const key = apiKeyFromHeader(request.headers.authorization);
    const caches = cachesOf(db);
    const keyHash = key ? hashSecret(key) : undefined;
    // A cached valid key is not a lookup: the throttle, which exists to protect lookups, is skipped.
    const cached = keyHash ? caches?.apiKeys.get(keyHash) : undefined;
    if (cached) {
      request.project = cached;
      request.apiKeyHash = keyHash;
      return;
    }
    const throttle = this.authThrottle;
    await throttle.check(request, 'api_key', key);
    if (!key || !keyHash) {
      await throttle.recordFailure(request, 'api_key', undefined);
      throw unauthorized(MISSING);
    }
    const project = caches
      ? await caches.apiKeys.load(keyHash, () => findProjectByKeyHash(db, keyHash))
      : await findProjectByKeyHash(db, keyHash);
    if (!project) {
      await throttle.recordFailure(request, 'api_key', key);
      throw unauthorized(INVALID);
    }
    request.project = project;
    request.apiKeyHash = keyHash;
  };
}

/** The hook platform route plugins authenticate with: the console's when it mounts them, else the API key. */
export function projectAuth(ctx: { db: Db; projectAuth?: onRequestHookHandler }): onRequestHookHandler {
  return ctx.projectAuth ?? apiKeyAuth(ctx.db);
}

/** The project of an authenticated platform request (the hook guarantees it is set). */
export function projectOf(request: FastifyRequest): ProjectContext {
  if (!request.project) throw unauthorized(MISSING);
  return request.project;
}
