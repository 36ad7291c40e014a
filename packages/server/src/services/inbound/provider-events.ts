import type { Catalogue } from '../../connectors/catalogue.ts';
import { NEVER_FORWARDED_HEADERS } from '../../connectors/inbound-schema.ts';
import { accountAad, type Vault } from '../../crypto/vault.ts';
import type { Db } from '../../db/database.ts';
import type { LinkedAccountRow } from '../../db/schema.ts';
import { DomainError, unauthorized } from '../../errors.ts';
import { jsonDepth, MAX_JSON_DEPTH } from '../../http/input-guards.ts';
import { accountEventData, recordEvent } from '../../webhooks/events.ts';
import { verifySignature } from './signature.ts';

/** Bodies larger than this are refused (413) before they are read in full. */
export const INBOUND_BODY_LIMIT = 256 * 1024;

/** One answer for unknown, unconnected and deleted: a token holder learns nothing else. */
export const UNKNOWN_TRIGGER_TOKEN =
  'No connected account uses this trigger URL. Copy the URL again from the connect form of the account.';

/** Session tokens are 48 lowercase hex characters (connect-sessions.ts); nothing else is looked up. */
const TRIGGER_TOKEN = /^[0-9a-f]{48}$/;

/** Forwarded for every provider; connector files add their own (event names, delivery ids). */
const ALWAYS_FORWARDED = ['content-type', 'user-agent'];
const MAX_HEADER_VALUE = 1024;

export interface InboundDeps {
  db: Db;
  vault: Vault;
  catalogue: Catalogue;
}

export interface InboundEvent {
  token: string;
  /** The raw bytes, exactly as received: signatures are over them. */
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The linked account a trigger token routes to: the account the token's session connected (or was
 * created to re-connect). The token lives on the session row, which is kept as long as its project is,
 * and saveAccount points the session at its account in the same transaction that saves it; so every
 * trigger URL an end user was ever shown for an account keeps working after re-connects, and stops when
 * the account is deleted. The project comes from the session: no caller-supplied id is involved.
 */
export async function findTriggerAccount(db: Db, token: string): Promise<LinkedAccountRow | undefined> {
  if (!TRIGGER_TOKEN.test(token)) return undefined;
  return db
    .selectFrom('connect_sessions as s')
    .innerJoin('linked_accounts as a', (join) =>
      join.onRef('a.id', '=', 's.account_id').onRef('a.project_id', '=', 's.project_id'),
    )
    .selectAll('a')
    .where('s.external_trigger_token', '=', token)
    .orderBy('s.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

function headerOf(headers: InboundEvent['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** JSON bodies arrive parsed, text as text, anything else (or text the outbox cannot store) as base64. */
export function describeBody(body: Buffer, contentType: string | undefined) {
  if (body.length === 0) return { body: null, body_encoding: 'none' as const };
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    text = undefined;
  }
  // PostgreSQL's jsonb cannot hold NUL, raw or escaped.
  if (text === undefined || text.includes('\u0000'))
    return { body: body.toString('base64'), body_encoding: 'base64' as const };
  if (
    /^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType ?? '') &&
    // Escapes jsonb refuses (NUL, lone surrogates): such a body is passed on as its text instead.
    !/\\u(0000|d[89a-f][0-9a-f]{2})/i.test(text) &&
    jsonDepth(text, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH
  ) {
    try {
      return { body: JSON.parse(text) as unknown, body_encoding: 'json' as const };
    } catch {
      // Not JSON after all: passed on as the text it is.
    }
  }
  return { body: text, body_encoding: 'text' as const };
}

/**
 * POST /webhooks/inbound/{token}: verifies the provider's signature where its connector declares one
 * and the account holds the signing secret, then writes an account.provider_event to the outbox.
 * Returns the event id (null when no endpoint subscribes). Never puts credentials in the event.
 */
export async function receiveProviderEvent(
  deps: InboundDeps,
  event: InboundEvent,
): Promise<{ eventId: string | null }> {
  const account = await findTriggerAccount(deps.db, event.token);
  const connector = account && deps.catalogue.get(account.provider);
  if (!account || !connector) throw new DomainError('not_found', UNKNOWN_TRIGGER_TOKEN);

  const declaration = connector.inbound?.signature;
  let verified = false;
  if (declaration) {
    const secrets = account.credentials_enc
      ? await deps.vault.decryptJson<Record<string, string>>(
          account.credentials_enc,
          accountAad(account.project_id, account.id),
        )
      : {};
    const secret = secrets[declaration.secret_field];
    // An account connected without the (optional) signing secret cannot verify anything; its events
    // are forwarded marked unverified, exactly like those of a provider that does not sign.
    if (secret) {
      const check = verifySignature(declaration, secret, event.body, (name) => headerOf(event.headers, name));
      if (!check.ok)
        throw unauthorized(
          `${check.reason} Check the signing secret stored with the account against the provider's webhook settings.`,
        );
      verified = true;
    }
  }

  const contentType = headerOf(event.headers, 'content-type');
  const forwarded = [
    ...ALWAYS_FORWARDED,
    ...(connector.inbound?.forward_headers ?? []),
    ...(declaration?.timestamp_header ? [declaration.timestamp_header] : []),
  ].map((h) => h.toLowerCase());
  const headers: Record<string, string> = {};
  for (const name of forwarded) {
    const value = headerOf(event.headers, name);
    if (value !== undefined && !NEVER_FORWARDED_HEADERS.test(name))
      headers[name] = value.slice(0, MAX_HEADER_VALUE);
  }

  const eventId = await deps.db.transaction().execute((tx) =>
    recordEvent(tx, {
      projectId: account.project_id,
      type: 'account.provider_event',
      recordType: 'account',
      recordId: account.id,
      data: {
        ...accountEventData(account),
        provider_event: {
          ...describeBody(event.body, contentType),
          content_type: contentType ?? null,
          headers,
          verified,
          received_at: new Date().toISOString(),
        },
      },
    }),
  );
  return { eventId };
}
