import { z } from 'zod';
import { type AuthMethod, fieldKey, isSecretField, type Problem } from './auth-schema.ts';
import { placeholdersOf } from './templates.ts';

/**
 * The "inbound" part of a connector file: events the provider posts to Plugboard (webhooks), how
 * their signature is verified and which of their headers are passed on to the integrator.
 */

const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name');

/** What a signed payload may be built from: the timestamp header's value and the raw body bytes. */
export const SIGNATURE_PAYLOAD_PARTS = ['timestamp', 'body'] as const;

/**
 * How a provider signs the events it posts to /webhooks/inbound/{external_trigger_token}: an HMAC of
 * the raw body (or of a template over the body and a timestamp header) keyed with a secret the end
 * user enters in the connect form. Declared only from the provider's own documentation.
 */
const signatureSchema = z.strictObject({
  /** The request header carrying the signature, e.g. "X-Hub-Signature-256". */
  header: headerName,
  algorithm: z.enum(['sha256', 'sha1']),
  encoding: z.enum(['hex', 'base64']),
  /** Text before the digest in the header, e.g. "sha256=". */
  prefix: z.string().min(1).optional(),
  /** The secret field of the auth method(s) holding the signing secret. */
  secret_field: fieldKey,
  /** What is signed; default "{{body}}". Placeholders: {{timestamp}} (the timestamp header) and {{body}}. */
  payload: z.string().min(1).optional(),
  /** The header with the signed timestamp (unix seconds, milliseconds or an ISO date). */
  timestamp_header: headerName.optional(),
  /** How far the signed timestamp may be from now; default 300 when a timestamp is signed. */
  tolerance_seconds: z.number().int().min(1).max(86_400).optional(),
});
export type InboundSignature = z.output<typeof signatureSchema>;

/** Headers never forwarded to the integrator, whatever a connector file asks: they carry credentials. */
export const NEVER_FORWARDED_HEADERS = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key)$/i;

export const inboundSchema = z.strictObject({
  /** Without it, events are forwarded unverified (the unguessable token is the only protection). */
  signature: signatureSchema.optional(),
  /** Provider headers worth forwarding besides content-type and user-agent, e.g. the event name. */
  forward_headers: z.array(headerName).max(20).optional(),
});
export type Inbound = z.output<typeof inboundSchema>;

/** Rules of the inbound part that span fields, or reach into the connector's auth methods. */
export function inboundProblems(connector: { inbound?: Inbound; auth: AuthMethod[] }): Problem[] {
  const problems: Problem[] = [];
  const signature = connector.inbound?.signature;
  for (const [i, name] of (connector.inbound?.forward_headers ?? []).entries()) {
    if (
      NEVER_FORWARDED_HEADERS.test(name) ||
      (signature && name.toLowerCase() === signature.header.toLowerCase())
    )
      problems.push({
        path: ['inbound', 'forward_headers', i],
        message: `"${name}" carries a credential or signature; it is never forwarded`,
      });
  }
  if (!signature) return problems;
  const at = (...rest: string[]) => ['inbound', 'signature', ...rest];
  const holders = connector.auth.filter((m) =>
    m.fields.some((f) => f.key === signature.secret_field && isSecretField(f)),
  );
  if (holders.length === 0) {
    problems.push({
      path: at('secret_field'),
      message: `no auth method has a secret field "${signature.secret_field}"; add one (type "password") for the signing secret`,
    });
  }
  const payload = signature.payload ?? '{{body}}';
  const parts = placeholdersOf(payload);
  for (const name of parts) {
    if (!(SIGNATURE_PAYLOAD_PARTS as readonly string[]).includes(name))
      problems.push({
        path: at('payload'),
        message: `uses {{${name}}}; only {{timestamp}} and {{body}} can be signed`,
      });
  }
  if (!parts.includes('body'))
    problems.push({ path: at('payload'), message: 'must contain {{body}}: an unsigned body proves nothing' });
  if (parts.includes('timestamp') && !signature.timestamp_header)
    problems.push({
      path: at('timestamp_header'),
      message: 'a payload with {{timestamp}} needs a timestamp_header',
    });
  if (signature.timestamp_header && !parts.includes('timestamp'))
    problems.push({
      path: at('payload'),
      message:
        'has a timestamp_header but does not sign {{timestamp}}; an unsigned timestamp cannot stop replays',
    });
  if (signature.tolerance_seconds !== undefined && !signature.timestamp_header)
    problems.push({ path: at('tolerance_seconds'), message: 'only applies with a signed timestamp_header' });
  return problems;
}
