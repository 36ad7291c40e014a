import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InboundSignature } from '../../connectors/inbound-schema.ts';

/** Providers sign with a timestamp so that a captured event cannot be replayed later; this is "later". */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * A signed timestamp as providers send it: unix seconds, unix milliseconds, or an ISO 8601 date
 * (Zendesk). Returns epoch milliseconds, or undefined when it is none of these.
 */
export function parseSignedTimestamp(value: string): number | undefined {
  const text = value.trim();
  if (/^\d{1,16}$/.test(text)) {
    const n = Number(text);
    return n >= 1e12 ? n : n * 1000;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The bytes the provider signed: the payload template with {{timestamp}} and the raw {{body}} filled in. */
function signedBytes(template: string, timestamp: string | undefined, body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of template.matchAll(/\{\{\s*(timestamp|body)\s*\}\}/g)) {
    parts.push(Buffer.from(template.slice(last, match.index), 'utf8'));
    parts.push(match[1] === 'body' ? body : Buffer.from(timestamp ?? '', 'utf8'));
    last = match.index + match[0].length;
  }
  parts.push(Buffer.from(template.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

function decodeDigest(text: string, encoding: InboundSignature['encoding']): Buffer | undefined {
  const trimmed = text.trim();
  if (encoding === 'hex') return /^[0-9a-fA-F]+$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : undefined;
  // Standard and URL-safe alphabets both decode; anything else is not a digest.
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
}

/**
 * Checks a provider's HMAC signature over the raw body as its connector file declares it. Compares
 * digests in constant time, and refuses a signed timestamp outside the tolerance (replays).
 */
export function verifySignature(
  declaration: InboundSignature,
  secret: string,
  body: Buffer,
  header: (name: string) => string | undefined,
  now = Date.now(),
): SignatureCheck {
  const presented = header(declaration.header);
  if (!presented) return { ok: false, reason: `The ${declaration.header} header is missing.` };
  let timestamp: string | undefined;
  if (declaration.timestamp_header) {
    timestamp = header(declaration.timestamp_header);
    const at = timestamp === undefined ? undefined : parseSignedTimestamp(timestamp);
    if (at === undefined)
      return { ok: false, reason: `The ${declaration.timestamp_header} header is missing or not a time.` };
    const tolerance = (declaration.tolerance_seconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
    if (Math.abs(now - at) > tolerance)
      return { ok: false, reason: `The signed timestamp is more than ${tolerance / 1000} s away from now.` };
  }
  const prefix = declaration.prefix ?? '';
  // Some providers send several signatures (one per active secret) separated by commas or spaces.
  const candidates = presented.split(/[,\s]+/).filter(Boolean);
  const expected = createHmac(declaration.algorithm, secret)
    .update(signedBytes(declaration.payload ?? '{{body}}', timestamp, body))
    .digest();
  for (const candidate of candidates) {
    if (!candidate.startsWith(prefix)) continue;
    const digest = decodeDigest(candidate.slice(prefix.length), declaration.encoding);
    if (digest && digest.length === expected.length && timingSafeEqual(digest, expected)) return { ok: true };
  }
  return { ok: false, reason: `The ${declaration.header} signature does not match.` };
}
