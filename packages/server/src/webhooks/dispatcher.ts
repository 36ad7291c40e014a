import http from 'node:http';
import https from 'node:https';
import { sql } from 'kysely';
import type { WebhookConfig } from '../config.ts';
import { type Vault, webhookEndpointAad } from '../crypto/vault.ts';
import { type ClaimLoop, startClaimLoop } from '../db/claim-loop.ts';
import type { Db } from '../db/database.ts';
import type { Listen } from '../db/listener.ts';
import type { WebhookDeliveryRow, WebhookEndpointRow } from '../db/schema.ts';
import type { Metrics } from '../observability/metrics.ts';
import { webhookPolicy } from '../outbound/address-policy.ts';
import { OUTBOX_CHANNEL } from './events.ts';
import { type SendOptions, sendWebhook } from './sender.ts';
import { signDelivery } from './signer.ts';

/** Longest wait between two tries of one delivery. */
const MAX_RETRY_DELAY_MS = 6 * 3600 * 1000;
/** Response text kept per try in the delivery log. */
const LOGGED_RESPONSE_CHARS = 1024;

/**
 * Wait before the next try after `attempt` failed tries: base × 4^(attempt−1), capped at 6 h, ±25 %
 * jitter so receivers coming back from an outage are not hit by every retry at the same instant.
 * With the defaults (5 s, 11 tries) the last try comes about a day after the first.
 */
export function retryDelayMs(attempt: number, baseMs: number, random = Math.random): number {
  const delay = Math.min(baseMs * 4 ** Math.max(0, attempt - 1), MAX_RETRY_DELAY_MS);
  return Math.round(delay * (0.75 + random() * 0.5));
}

/** A claimed delivery stays invisible to other workers this long: one send plus room for bookkeeping. */
export const leaseMs = (config: Pick<WebhookConfig, 'timeoutMs'>) => config.timeoutMs + 5_000;

export interface DispatcherDeps {
  db: Db;
  vault: Vault;
  config: WebhookConfig;
  /** Wake-ups on commit (LISTEN/NOTIFY); without it the worker relies on polling alone. */
  listen?: Listen;
  log?: { warn(obj: unknown, msg?: string): void };
  metrics?: Pick<Metrics, 'webhookDeliveries' | 'webhookDuration'>;
  /** Keep-alive connection pools for the sends; startDispatcher makes its own. */
  agents?: SendOptions['agents'];
}

/** wake() looks for due deliveries now; stop() waits for the sends in flight. */
export type Dispatcher = ClaimLoop;

/** A claimed delivery with what sending it needs, read in the claim's transaction. */
export type ClaimedDelivery = WebhookDeliveryRow & {
  payload: Record<string, unknown>;
  endpoint: WebhookEndpointRow;
};

/**
 * Claims due deliveries with FOR UPDATE SKIP LOCKED and pushes their next_attempt_at forward by the
 * lease in the same short transaction, then sends outside any transaction. Several workers (processes)
 * can run side by side: a row is claimed by one of them at a time. A worker that dies mid-send leaves
 * its rows to be claimed again when the lease runs out, so every event is delivered at least once.
 * The event and endpoint are read in the same transaction: on PGlite every statement outside it would
 * queue behind API requests for the one connection.
 */
export async function claimDue(db: Db, limit: number, lease: number): Promise<ClaimedDelivery[]> {
  return db.transaction().execute(async (tx) => {
    const due = await tx
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', sql<Date>`now()`)
      .orderBy('next_attempt_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return [];
    const ids = due.map((d) => d.id);
    await tx
      .updateTable('webhook_deliveries')
      .set({
        attempts: sql<number>`attempts + 1`,
        next_attempt_at: sql<Date>`now() + make_interval(secs => ${lease / 1000})`,
        updated_at: sql<Date>`now()`,
      })
      .where('id', 'in', ids)
      .execute();
    const deliveries = await tx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
      .selectAll('d')
      .select('e.payload')
      .where('d.id', 'in', ids)
      .execute();
    const endpoints = await tx
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', 'in', [...new Set(deliveries.map((d) => d.endpoint_id))])
      .execute();
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    return deliveries.map((d) => ({ ...d, endpoint: byId.get(d.endpoint_id)! }));
  });
}

/** Signs and sends one claimed delivery, then records the try and what comes next. */
export async function deliver(deps: DispatcherDeps, delivery: ClaimedDelivery): Promise<void> {
  const { db, vault, config } = deps;
  const { endpoint } = delivery;
  if (!endpoint.enabled) {
    await finish(
      db,
      delivery,
      { ok: false, statusCode: null, error: 'endpoint disabled', latencyMs: 0 },
      true,
    );
    return;
  }
  const body = JSON.stringify(delivery.payload);
  const result = await signingSecrets(vault, endpoint).then(
    (secrets) =>
      sendWebhook(
        delivery.url_override ?? endpoint.url,
        body,
        { ...signDelivery(delivery.event_id, body, secrets) },
        {
          timeoutMs: config.timeoutMs,
          policy: webhookPolicy(config.allowedRanges),
          agents: deps.agents,
        },
      ),
    // A secret that no longer decrypts (a key ring without its key) is a failed try like any other, so
    // the delivery still ends as failed after the last one instead of being claimed forever.
    (err: Error) => ({
      ok: false,
      statusCode: null,
      error: `the signing secret could not be read: ${err.message}`,
      latencyMs: 0,
      responseBody: '',
    }),
  );
  const giveUp = !result.ok && delivery.attempts >= config.maxAttempts;
  await finish(db, delivery, result, giveUp, retryDelayMs(delivery.attempts, config.retryBaseMs));
  // Counted once recorded, so a scrape never shows a send as done while its row is still pending.
  deps.metrics?.webhookDeliveries.inc({ outcome: result.ok ? 'succeeded' : giveUp ? 'failed' : 'retry' });
  deps.metrics?.webhookDuration.observe(result.latencyMs / 1000);
}

/** The current secret, then the previous one while its rotation overlap lasts. */
async function signingSecrets(vault: Vault, endpoint: ClaimedDelivery['endpoint']): Promise<string[]> {
  const aad = webhookEndpointAad(endpoint.project_id, endpoint.id);
  const secrets = [await vault.decrypt(endpoint.secret_enc, aad)];
  if (endpoint.previous_secret_enc && endpoint.previous_secret_expires_at! > new Date()) {
    secrets.push(await vault.decrypt(endpoint.previous_secret_enc, aad));
  }
  return secrets;
}

async function finish(
  db: Db,
  delivery: WebhookDeliveryRow,
  result: {
    ok: boolean;
    statusCode: number | null;
    error: string | null;
    latencyMs: number;
    responseBody?: string;
  },
  giveUp: boolean,
  retryInMs = 0,
): Promise<void> {
  const latency = Math.round(result.latencyMs);
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('webhook_delivery_attempts')
      .values({
        delivery_id: delivery.id,
        attempt: delivery.attempts,
        status_code: result.statusCode,
        error: result.error,
        latency_ms: latency,
        response_body: result.responseBody?.slice(0, LOGGED_RESPONSE_CHARS) ?? null,
      })
      .execute();
    await tx
      .updateTable('webhook_deliveries')
      .set({
        status: result.ok ? 'succeeded' : giveUp ? 'failed' : 'pending',
        ...(result.ok ? { delivered_at: sql<Date>`now()` as never } : {}),
        ...(!result.ok && !giveUp
          ? { next_attempt_at: sql<Date>`now() + make_interval(secs => ${retryInMs / 1000})` as never }
          : {}),
        last_status_code: result.statusCode,
        last_error: result.error,
        last_latency_ms: latency,
        updated_at: sql<Date>`now()` as never,
      })
      .where('id', '=', delivery.id)
      // Only the claim that is still current decides: if the lease ran out and another worker claimed
      // the row again, this try is logged but the newer claim owns the row's state.
      .where('attempts', '=', delivery.attempts)
      .execute();
  });
}

/**
 * Deletes events older than the retention period that have nothing pending, with their deliveries and
 * log (cascade), in small batches so no long lock is held. Returns how many events went.
 */
export async function pruneEvents(db: Db, retentionDays: number, batch = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db
      .deleteFrom('webhook_events')
      .where(
        'id',
        'in',
        db
          .selectFrom('webhook_events as e')
          .select('e.id')
          .where('e.created_at', '<', sql<Date>`now() - make_interval(days => ${retentionDays})`)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('webhook_deliveries as d')
                  .select('d.id')
                  .whereRef('d.event_id', '=', 'e.id')
                  .where('d.status', '=', 'pending'),
              ),
            ),
          )
          .limit(batch),
      )
      .executeTakeFirst();
    const deleted = Number(result.numDeletedRows);
    total += deleted;
    if (deleted < batch) return total;
  }
}

/** How often a worker prunes old events; several workers pruning at once is harmless. */
const PRUNE_EVERY_MS = 3600 * 1000;

/** Runs the delivery loop until stopped: a pool of at most `concurrency` sends at a time. */
export function startDispatcher(input: DispatcherDeps): Dispatcher {
  const { config } = input;
  // Connections to a receiver are reused across deliveries (no TCP/TLS set-up per event). Every new
  // connection still goes through the sender's address checks; a reused one was checked when made.
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: config.concurrency, timeout: config.timeoutMs }),
    https: new https.Agent({ keepAlive: true, maxSockets: config.concurrency, timeout: config.timeoutMs }),
  };
  const deps = { ...input, agents: input.agents ?? agents };
  const loop = startClaimLoop({
    pollMs: config.pollMs,
    concurrency: config.concurrency,
    claim: (room) => claimDue(deps.db, room, leaseMs(config)),
    run: (delivery) => deliver(deps, delivery),
    onClaimError: (err) => deps.log?.warn({ err }, 'claiming webhook deliveries failed'),
    onRunError: (err, delivery) => deps.log?.warn({ err, delivery: delivery.id }, 'webhook delivery failed'),
  });

  // Listening again after a lost connection, it looks at once for what committed meanwhile.
  const unlisten = deps.listen?.(OUTBOX_CHANNEL, loop.wake, { restored: loop.wake }).catch((err) => {
    deps.log?.warn({ err }, 'webhook worker could not LISTEN; falling back to polling');
    return undefined;
  });

  const prune = () =>
    void pruneEvents(deps.db, config.retentionDays).catch((err) =>
      deps.log?.warn({ err }, 'pruning old webhook events failed'),
    );
  const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
  pruneTimer.unref();

  return {
    wake: loop.wake,
    stop: async () => {
      clearInterval(pruneTimer);
      await loop.stop();
      agents.http.destroy();
      agents.https.destroy();
      await (await unlisten)?.();
    },
  };
}
