/**
 * Where the hosted page's Close button may send the browser: an http(s) URL, without credentials, on one
 * of `origins` (Plugboard's own, the session's allowed_origins, PLUGBOARD_HUB_ALLOWED_ORIGINS). Anything
 * else gives undefined: a link must never become an open redirect.
 */
export function allowedReturnUrl(candidate: string, origins: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  return origins.includes(url.origin) ? url.toString() : undefined;
}
