import { sql } from 'kysely';
import type { WebhookConfig } from '../config.ts';
import { generateId } from '../crypto/tokens.ts';
import { type Vault, webhookEndpointAad } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import type { WebhookDeliveryRow, WebhookEndpointRow } from '../db/schema.ts';
import { conflict, notFound, validationFailed } from '../errors.ts';
import {
  type AddressPolicy,
  BlockedAddressError,
  checkUrl,
  InvalidUrlError,
  webhookPolicy,
} from '../outbound/address-policy.ts';
import type {
  DeliveryListQuery,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointCreate,
  WebhookEndpointUpdate,
} from '../schemas/webhooks.ts';
import { OUTBOX_CHANNEL } from '../webhooks/events.ts';
import { generateSigningSecret } from '../webhooks/signer.ts';
import { audit } from './audit.ts';
import type { ProjectContext } from './tenancy.ts';

export interface WebhookDeps {
  db: Db;
  vault: Vault;
  config: WebhookConfig;
}

/** Refuses receiver URLs that are malformed or resolve to addresses the configuration does not allow. */
export async function acceptableWebhookUrl(
  url: string,
  policy: AddressPolicy,
  field: string,
): Promise<string> {
  try {
    return (await checkUrl(url, policy, 'webhook URL')).toString();
  } catch (err) {
    if (err instanceof BlockedAddressError || err instanceof InvalidUrlError) {
      throw validationFailed(err.message, [`${field}: ${err.message}`]);
    }
    throw err;
  }
}

const policyOf = (config: WebhookConfig): AddressPolicy => webhookPolicy(config.allowedRanges);

export async function createEndpoint(
  deps: WebhookDeps,
  project: ProjectContext,
  input: WebhookEndpointCreate,
) {
  const url = await acceptableWebhookUrl(input.url, policyOf(deps.config), 'body.url');
  const id = generateId('whe_');
  const secret = generateSigningSecret();
  const encrypted = deps.vault.encrypt(secret, webhookEndpointAad(project.projectId, id));
  const row = await deps.db.transaction().execute(async (tx) => {
    const created = await tx
      .insertInto('webhook_endpoints')
      .values({
        id,
        project_id: project.projectId,
        url,
        description: input.description ?? null,
        events: input.events ? JSON.stringify([...new Set(input.events)]) : null,
        enabled: input.enabled ?? true,
        secret_enc: encrypted.ciphertext,
        key_version: encrypted.keyVersion,
        updated_at: sql<Date>`now()` as never,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, project, {
      action: 'webhook_endpoint.created',
      targetType: 'webhook_endpoint',
      targetId: id,
      after: toEndpoint(created),
    });
    return created;
  });
  return { ...toEndpoint(row), secret };
}

export async function listEndpoints(
  deps: WebhookDeps,
  project: ProjectContext,
  query: { page: number; page_size: number },
) {
  const base = deps.db.selectFrom('webhook_endpoints').where('project_id', '=', project.projectId);
  const [rows, { total }] = await Promise.all([
    base
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .limit(query.page_size)
      .offset((query.page - 1) * query.page_size)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { data: rows.map(toEndpoint), page: query.page, page_size: query.page_size, total: Number(total) };
}

async function endpointOrFail(db: Db, project: ProjectContext, id: string): Promise<WebhookEndpointRow> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('project_id', '=', project.projectId)
    .executeTakeFirst();
  if (!row) throw notFound(`Webhook endpoint ${id}`);
  return row;
}

export async function getEndpoint(deps: WebhookDeps, project: ProjectContext, id: string) {
  return toEndpoint(await endpointOrFail(deps.db, project, id));
}

export async function updateEndpoint(
  deps: WebhookDeps,
  project: ProjectContext,
  id: string,
  patch: WebhookEndpointUpdate,
) {
  const url = patch.url
    ? await acceptableWebhookUrl(patch.url, policyOf(deps.config), 'body.url')
    : undefined;
  const row = await deps.db.transaction().execute(async (tx) => {
    const before = await tx
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', project.projectId)
      .forUpdate()
      .executeTakeFirst();
    if (!before) throw notFound(`Webhook endpoint ${id}`);
    const updated = await tx
      .updateTable('webhook_endpoints')
      .set({
        ...(url ? { url } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.events !== undefined
          ? { events: patch.events ? JSON.stringify([...new Set(patch.events)]) : null }
          : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
        updated_at: sql<Date>`now()` as never,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, project, {
      action: 'webhook_endpoint.updated',
      targetType: 'webhook_endpoint',
      targetId: id,
      before: toEndpoint(before),
      after: toEndpoint(updated),
    });
    return updated;
  });
  return toEndpoint(row);
}

/** Deleting an endpoint drops its pending deliveries and its delivery log with it. */
export async function deleteEndpoint(deps: WebhookDeps, project: ProjectContext, id: string): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    const deleted = await tx
      .deleteFrom('webhook_endpoints')
      .where('id', '=', id)
      .where('project_id', '=', project.projectId)
      .returningAll()
      .executeTakeFirst();
    if (!deleted) throw notFound(`Webhook endpoint ${id}`);
    await audit(tx, project, {
      action: 'webhook_endpoint.deleted',
      targetType: 'webhook_endpoint',
      targetId: id,
      before: toEndpoint(deleted),
    });
  });
}

/**
 * Issues a new signing secret. The current one becomes the previous secret and keeps signing (a second
 * `v1,` signature) until the overlap ends, so receivers can switch without missing a delivery.
 */
export async function rotateSecret(
  deps: WebhookDeps,
  project: ProjectContext,
  id: string,
  overlapSeconds = deps.config.secretOverlapSeconds,
) {
  const secret = generateSigningSecret();
  const row = await deps.db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom('webhook_endpoints')
      .select(['secret_enc'])
      .where('id', '=', id)
      .where('project_id', '=', project.projectId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw notFound(`Webhook endpoint ${id}`);
    const encrypted = deps.vault.encrypt(secret, webhookEndpointAad(project.projectId, id));
    const rotated = await tx
      .updateTable('webhook_endpoints')
      .set({
        secret_enc: encrypted.ciphertext,
        key_version: encrypted.keyVersion,
        previous_secret_enc: overlapSeconds > 0 ? current.secret_enc : null,
        previous_secret_expires_at:
          overlapSeconds > 0 ? (sql<Date>`now() + make_interval(secs => ${overlapSeconds})` as never) : null,
        updated_at: sql<Date>`now()` as never,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    // Which secret is not recorded, only that it changed and how long the old one keeps signing.
    await audit(tx, project, {
      action: 'webhook_endpoint.secret_rotated',
      targetType: 'webhook_endpoint',
      targetId: id,
      after: {
        overlap_seconds: overlapSeconds,
        previous_secret_expires_at: toEndpoint(rotated).previous_secret_expires_at,
      },
    });
    return rotated;
  });
  return { ...toEndpoint(row), secret };
}

type DeliveryWithType = WebhookDeliveryRow & { event_type: string; endpoint_url: string };

function deliveriesOf(db: Db, project: ProjectContext, endpointId: string) {
  return db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhook_events', 'webhook_events.id', 'webhook_deliveries.event_id')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
    .where('webhook_deliveries.endpoint_id', '=', endpointId)
    .where('webhook_events.project_id', '=', project.projectId);
}

/** The delivery log of one endpoint, newest first. */
export async function listDeliveries(
  deps: WebhookDeps,
  project: ProjectContext,
  endpointId: string,
  query: DeliveryListQuery,
) {
  await endpointOrFail(deps.db, project, endpointId);
  let base = deliveriesOf(deps.db, project, endpointId);
  if (query.status) base = base.where('webhook_deliveries.status', '=', query.status);
  const [rows, { total }] = await Promise.all([
    base
      .selectAll('webhook_deliveries')
      .select(['webhook_events.type as event_type', 'webhook_endpoints.url as endpoint_url'])
      .orderBy('webhook_deliveries.created_at', 'desc')
      .orderBy('webhook_deliveries.id', 'desc')
      .limit(query.page_size)
      .offset((query.page - 1) * query.page_size)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { data: rows.map(toDelivery), page: query.page, page_size: query.page_size, total: Number(total) };
}

/** One delivery with the event it carries and every try made so far. */
export async function getDelivery(
  deps: WebhookDeps,
  project: ProjectContext,
  endpointId: string,
  id: string,
) {
  const row = await deliveriesOf(deps.db, project, endpointId)
    .selectAll('webhook_deliveries')
    .select([
      'webhook_events.type as event_type',
      'webhook_events.payload',
      'webhook_endpoints.url as endpoint_url',
    ])
    .where('webhook_deliveries.id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound(`Webhook delivery ${id}`);
  const log = await deps.db
    .selectFrom('webhook_delivery_attempts')
    .selectAll()
    .where('delivery_id', '=', id)
    .orderBy('id')
    .execute();
  return {
    ...toDelivery(row),
    payload: row.payload,
    log: log.map((a) => ({
      attempt: a.attempt,
      status_code: a.status_code,
      error: a.error,
      latency_ms: a.latency_ms,
      response_body: a.response_body,
      created_at: a.created_at.toISOString(),
    })),
  };
}

/**
 * Sends an event to the endpoint again as a new delivery (same event id, so receivers that dedupe on
 * `webhook-id` still can), keeping the original delivery and its log as they are.
 */
export async function replayDelivery(
  deps: WebhookDeps,
  project: ProjectContext,
  endpointId: string,
  id: string,
): Promise<WebhookDelivery> {
  const endpoint = await endpointOrFail(deps.db, project, endpointId);
  if (!endpoint.enabled) throw conflict(`Webhook endpoint ${endpointId} is disabled; enable it to replay.`);
  const original = await deliveriesOf(deps.db, project, endpointId)
    .select(['webhook_deliveries.event_id', 'webhook_deliveries.url_override'])
    .where('webhook_deliveries.id', '=', id)
    .executeTakeFirst();
  if (!original) throw notFound(`Webhook delivery ${id}`);
  const row = await deps.db.transaction().execute(async (tx) => {
    const created = await tx
      .insertInto('webhook_deliveries')
      .values({
        id: generateId('whd_'),
        event_id: original.event_id,
        endpoint_id: endpointId,
        url_override: original.url_override,
        replay_of: id,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(tx);
    await audit(tx, project, {
      action: 'webhook_delivery.replayed',
      targetType: 'webhook_delivery',
      targetId: id,
      after: { delivery_id: created.id, endpoint_id: endpointId, event_id: created.event_id },
    });
    return created;
  });
  const type = await deps.db
    .selectFrom('webhook_events')
    .select('type')
    .where('id', '=', row.event_id)
    .executeTakeFirstOrThrow();
  return toDelivery({ ...row, event_type: type.type, endpoint_url: endpoint.url });
}

function toEndpoint(row: WebhookEndpointRow): WebhookEndpoint {
  const overlapping = row.previous_secret_expires_at && row.previous_secret_expires_at > new Date();
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    previous_secret_expires_at: overlapping ? row.previous_secret_expires_at!.toISOString() : null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function toDelivery(row: DeliveryWithType): WebhookDelivery {
  return {
    id: row.id,
    endpoint_id: row.endpoint_id,
    event_id: row.event_id,
    event_type: row.event_type,
    url: row.url_override ?? row.endpoint_url,
    status: row.status as WebhookDelivery['status'],
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    last_latency_ms: row.last_latency_ms,
    delivered_at: row.delivered_at?.toISOString() ?? null,
    replay_of: row.replay_of,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
