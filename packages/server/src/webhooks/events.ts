import { type Insertable, sql } from 'kysely';
import { generateId } from '../crypto/tokens.ts';
import type { Db, Tx } from '../db/database.ts';
import type { Database, LinkedAccountRow } from '../db/schema.ts';

export const WEBHOOK_EVENT_TYPES = [
  'account.created',
  'account.updated',
  'account.deleted',
  'account.refresh_failed',
  'account.refresh_recovered',
  'account.provider_event',
  'connect_session.created',
  'connection_attempt.failed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Committed outbox rows wake workers listening on this channel (PostgreSQL delivers it on commit only). */
export const OUTBOX_CHANNEL = 'plugboard_webhooks';

export interface EventInput {
  projectId: string;
  type: WebhookEventType;
  recordType: 'account' | 'connect_session' | 'connection_attempt';
  recordId: string;
  /** Fields of the payload besides the envelope (StackOne's account fields, for account events). */
  data: Record<string, unknown>;
  /** The causing session's webhook_url: it replaces the endpoints' URLs for this event. */
  webhookUrl?: string | null;
}

/**
 * Writes an event to the outbox and fans it out to the project's matching endpoints. Call it with the
 * transaction of the change it reports, so the event exists if and only if the change committed. An
 * event no enabled endpoint subscribes to is not stored at all: there is nobody to deliver it to, and
 * the common case (no endpoint yet) then costs one indexed read.
 *
 * A session's webhook URL override keeps the endpoints' event filters and signing secrets and only
 * changes the destination; several matching endpoints then collapse into one delivery (the oldest
 * endpoint's secret signs it), so the session's receiver gets each event once.
 *
 * Returns the event id, or null when nothing subscribes to it.
 */
export async function recordEvent(tx: Tx | Db, input: EventInput): Promise<string | null> {
  const [id] = await recordEvents(tx, [input]);
  return id ?? null;
}

/**
 * recordEvent for several changes written in one transaction (group commit): one endpoint lookup for
 * all their projects, one multi-row insert each for events and deliveries, one notification.
 * Returns one event id (or null) per input, in order.
 */
export async function recordEvents(tx: Tx | Db, inputs: EventInput[]): Promise<(string | null)[]> {
  if (inputs.length === 0) return [];
  const endpoints = await tx
    .selectFrom('webhook_endpoints')
    .select(['id', 'project_id', 'events'])
    .where('project_id', 'in', [...new Set(inputs.map((input) => input.projectId))])
    .where('enabled', '=', true)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const events: Insertable<Database['webhook_events']>[] = [];
  const deliveries: Insertable<Database['webhook_deliveries']>[] = [];
  const ids = inputs.map((input) => {
    const matching = endpoints.filter(
      (e) => e.project_id === input.projectId && (!e.events || e.events.includes(input.type)),
    );
    const targets = input.webhookUrl ? matching.slice(0, 1) : matching;
    if (targets.length === 0) return null;
    const id = generateId('evt_');
    const payload = {
      id,
      project_id: input.projectId,
      event: input.type,
      event_date: new Date().toISOString(),
      record_type: input.recordType,
      record_id: input.recordId,
      ...input.data,
    };
    events.push({ id, project_id: input.projectId, type: input.type, payload: JSON.stringify(payload) });
    for (const e of targets) {
      deliveries.push({
        id: generateId('whd_'),
        event_id: id,
        endpoint_id: e.id,
        url_override: input.webhookUrl ?? null,
      });
    }
    return id;
  });
  if (events.length === 0) return ids;
  await tx.insertInto('webhook_events').values(events).execute();
  await tx.insertInto('webhook_deliveries').values(deliveries).execute();
  // Delivered by PostgreSQL on commit only, so workers never wake for a change that rolled back.
  await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(tx);
  return ids;
}

/** StackOne's account event fields. */
export function accountEventData(row: LinkedAccountRow): Record<string, unknown> {
  return {
    account_id: row.id,
    provider: row.provider,
    origin_owner_id: row.origin_owner_id,
    origin_owner_name: row.origin_owner_name,
    origin_username: row.origin_username,
    label: row.label,
    status: row.status,
    status_reasons: row.status_reasons,
    setup_information: row.setup_information,
  };
}

export function recordAccountEvent(
  tx: Tx | Db,
  type: Extract<WebhookEventType, `account.${string}`>,
  row: LinkedAccountRow,
  webhookUrl?: string | null,
): Promise<string | null> {
  return recordEvent(tx, {
    projectId: row.project_id,
    type,
    recordType: 'account',
    recordId: row.id,
    data: accountEventData(row),
    webhookUrl,
  });
}
