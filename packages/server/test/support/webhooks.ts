import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { ReceivedWebhook } from './webhook-receiver.ts';

/** Loopback receivers are allowed explicitly, as an operator would for a sidecar; retries are fast. */
export const WEBHOOK_ENV = {
  // Webhook tests connect accounts against fake providers on 127.0.0.1 as well.
  PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback',
  PLUGBOARD_WEBHOOK_ALLOWED_RANGES: 'loopback',
  PLUGBOARD_WEBHOOK_RETRY_BASE_MS: '20',
  PLUGBOARD_WEBHOOK_POLL_MS: '50',
  PLUGBOARD_WEBHOOK_TIMEOUT_MS: '2000',
};

/** Verifies a delivery with the standardwebhooks package (throws if no signature matches). */
export function verify(hook: ReceivedWebhook, secret: string) {
  return new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>);
}

export const stackOneSignature = (body: string, secret: string) =>
  createHmac('sha256', secret).update(body).digest('base64url');
