/**
 * Plugboard's built-in sandbox provider: two connectors (connectors/sandbox.json, sandbox_oauth.json)
 * whose "provider" is Plugboard itself, so a newcomer can connect an account with no third-party one.
 *
 * Server-side calls to SANDBOX_ORIGIN never reach the network: the outbound client hands them to the
 * in-process handler (provider.ts). Only the browser needs a real address, for the consent page; see
 * browserUrl below.
 */
export const SANDBOX_ORIGIN = 'https://sandbox.plugboard.internal';

export const SANDBOX_CONNECTOR_KEYS = ['sandbox', 'sandbox_oauth'] as const;
export type SandboxConnectorKey = (typeof SANDBOX_CONNECTOR_KEYS)[number];

export const isSandboxConnector = (key: string): key is SandboxConnectorKey =>
  (SANDBOX_CONNECTOR_KEYS as readonly string[]).includes(key);

/** The one API key the `sandbox` connector accepts; anything else gets a provider-style 401. */
export const SANDBOX_API_KEY = 'sandbox-good';

/**
 * The OAuth client the sandbox's authorization server knows. It is public knowledge on purpose: the
 * sandbox guards nothing, and this way nobody registers an app to try the OAuth flow.
 */
export const SANDBOX_OAUTH_CLIENT = Object.freeze({
  client_id: 'plugboard-sandbox',
  client_secret: 'plugboard-sandbox-secret',
});

/** The client an integration uses when it has none of its own: only sandbox_oauth has one built in. */
export function builtInOAuthClient(
  connectorKey: string,
): { client_id: string; client_secret: string } | undefined {
  return connectorKey === 'sandbox_oauth' ? { ...SANDBOX_OAUTH_CLIENT } : undefined;
}

/** Where Plugboard serves the sandbox's browser pages (the consent page) under its own public URL. */
export const SANDBOX_ROUTE_PREFIX = '/sandbox';

/**
 * The browser cannot reach SANDBOX_ORIGIN, so a URL on it that the browser is sent to (the authorize
 * URL) is moved under Plugboard's public URL, where routes/sandbox.ts serves it. Other URLs pass as is.
 */
export function browserUrl(url: string, publicUrl: string): string {
  const parsed = new URL(url);
  if (parsed.origin !== SANDBOX_ORIGIN) return url;
  return `${publicUrl}${SANDBOX_ROUTE_PREFIX}${parsed.pathname}${parsed.search}${parsed.hash}`;
}
