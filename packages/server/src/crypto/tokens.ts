import { hash, randomBytes } from 'node:crypto';

/**
 * Secrets handed to clients (API keys, session tokens) are a readable prefix plus 256 random bits.
 * Only their SHA-256 is stored: a leaked database does not leak usable credentials. A plain hash
 * (no salt, no slow KDF) is right here because the secrets are random, not chosen by people.
 */
export const TOKEN_PREFIX = {
  apiKey: 'pbk_',
  sessionToken: 'pbcs_',
} as const;

export function generateSecret(prefix: string, bytes = 32): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/** One-shot crypto.hash: a third of createHash's cost, paid by every authenticated request. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** Random identifier for rows whose id is a string (projects, keys): prefix + 128 bits in base32-ish. */
export function generateId(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}
