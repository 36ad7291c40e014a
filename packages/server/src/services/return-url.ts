import type { Db } from '../db/database.ts';
import { findUsableSession } from './connect-sessions.ts';

/**
 * Where the hosted page's Close button may send the browser: an http(s) URL on Plugboard's own origin,
 * an origin of the session's allowed_origins, or one of PLUGBOARD_HUB_ALLOWED_ORIGINS (not "*").
 * Anything else, or an unusable token, gives undefined: a link must never become an open redirect.
 */
export async function allowedReturnUrl(
  db: Db,
  options: { publicUrl: string; hubAllowedOrigins: readonly string[] },
  token: string,
  candidate: string,
): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  const session = await findUsableSession(db, undefined, token);
  if (!session) return undefined;
  const origins = new Set([
    new URL(options.publicUrl).origin,
    ...(session.allowed_origins ?? []),
    ...options.hubAllowedOrigins.filter((o) => o !== '*'),
  ]);
  return origins.has(url.origin) ? url.toString() : undefined;
}
