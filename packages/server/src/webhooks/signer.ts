import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Standard Webhooks secrets: `whsec_` + base64 of 32 random bytes (what `standardwebhooks` expects). */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'x-stackone-signature': string;
}

/**
 * Headers for one delivery. `webhook-signature` carries one `v1,…` signature per valid secret (the
 * current one first), so receivers still holding the previous secret keep verifying during a rotation
 * overlap. `x-stackone-signature` is StackOne's scheme (HMAC-SHA256 of the raw body, keyed with the
 * secret string, base64url) with the current secret, for receivers written against StackOne.
 */
export function signDelivery(
  eventId: string,
  body: string,
  secrets: string[],
  at: Date = new Date(),
): SignedHeaders {
  const [current] = secrets;
  if (!current) throw new Error('a webhook endpoint without a signing secret cannot be delivered to');
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(eventId, at, body)).join(' '),
    'x-stackone-signature': createHmac('sha256', current).update(body, 'utf8').digest('base64url'),
  };
}
