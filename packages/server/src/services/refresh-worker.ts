import { sql } from 'kysely';
import { type ClaimLoop, startClaimLoop } from '../db/claim-loop.ts';
import type { Db } from '../db/database.ts';
import type { LinkedAccountRow } from '../db/schema.ts';
import type { DomainError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { tokenEndpointPushback } from './oauth-client.ts';
import { freshCredentials, REFRESH_MARGIN_MS, type RefreshDeps } from './token-refresh.ts';

export interface RefreshWorkerConfig {
  /** Refreshes one process runs at the same time. */
  concurrency: number;
  /** How often an idle worker looks for due accounts. */
  pollMs: number;
  /** A claimed account stays invisible to other workers this long: one refresh plus bookkeeping. */
  leaseMs: number;
}

/**
 * Accounts become due up to this long before the refresh margin, spread by a hash of their id:
 * tokens issued in the same second (an import, a batch of connects) are not all refreshed in one burst.
 */
export const REFRESH_JITTER_MS = 2 * 60 * 1000;
/** First pause of a provider whose token endpoint failed or pushed back; doubles per failure, up to 5 min. */
const PROVIDER_BACKOFF_BASE_MS = 5_000;
const PROVIDER_BACKOFF_MAX_MS = 5 * 60 * 1000;

/** Due: inside the margin plus the account's share of the jitter, not in a failure backoff, not claimed. */
function dueAccounts(db: Db, pausedProviders: string[]) {
  const margin = REFRESH_MARGIN_MS / 1000;
  const jitter = REFRESH_JITTER_MS / 1000;
  let query = db
    .selectFrom('linked_accounts')
    .where('status', 'in', ['active', 'expired'])
    .where('token_expires_at', 'is not', null)
    // The index range (linked_accounts_refresh_due_idx): everything that could be due with full jitter…
    .where('token_expires_at', '<', sql<Date>`now() + make_interval(secs => ${margin + jitter})`)
    // …then each account's own point in the jitter window, stable across polls and processes.
    .where(
      'token_expires_at',
      '<',
      sql<Date>`now() + make_interval(secs => ${margin} + ${jitter} * ((hashtext(id) & 1023) / 1024.0))`,
    )
    .where((eb) =>
      eb.or([eb('refresh_retry_at', 'is', null), eb('refresh_retry_at', '<=', sql<Date>`now()`)]),
    )
    .where((eb) =>
      eb.or([eb('refresh_claimed_until', 'is', null), eb('refresh_claimed_until', '<=', sql<Date>`now()`)]),
    );
  if (pausedProviders.length > 0) query = query.where('provider', 'not in', pausedProviders);
  return query;
}

/**
 * Claims up to `limit` due accounts with FOR UPDATE SKIP LOCKED and sets their lease in the same short
 * transaction, so workers in any number of processes never pick the same account; a worker that dies
 * leaves its claims to run out. The refresh itself runs later, outside this transaction.
 */
export async function claimDueRefreshes(
  db: Db,
  limit: number,
  leaseMs: number,
  pausedProviders: string[] = [],
): Promise<LinkedAccountRow[]> {
  return db.transaction().execute(async (tx) => {
    const due = await dueAccounts(tx as unknown as Db, pausedProviders)
      .select('id')
      .orderBy('token_expires_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return [];
    return tx
      .updateTable('linked_accounts')
      .set({ refresh_claimed_until: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})` as never })
      .where(
        'id',
        'in',
        due.map((d) => d.id),
      )
      .returningAll()
      .execute();
  });
}

/** Accounts due for a refresh now (ignoring jitter), across all processes: the backlog. */
export async function countDueRefreshes(db: Db): Promise<number> {
  const row = await db
    .selectFrom('linked_accounts')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('status', 'in', ['active', 'expired'])
    .where('token_expires_at', '<', sql<Date>`now() + make_interval(secs => ${REFRESH_MARGIN_MS / 1000})`)
    .where((eb) =>
      eb.or([eb('refresh_retry_at', 'is', null), eb('refresh_retry_at', '<=', sql<Date>`now()`)]),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** How long a provider whose token endpoint failed is left alone: its Retry-After, else doubling backoff. */
export function providerPauseMs(
  failure: DomainError,
  consecutive: number,
  random = Math.random,
): number | undefined {
  const pushback = tokenEndpointPushback(failure);
  if (pushback?.retryAfterMs !== undefined && (pushback.status === 429 || pushback.status >= 500)) {
    return Math.min(pushback.retryAfterMs, PROVIDER_BACKOFF_MAX_MS);
  }
  // A refusal of one account's grant says nothing about the provider; rate limits, 5xx and outages do.
  const providerTrouble =
    pushback !== undefined
      ? pushback.status === 429 || pushback.status >= 500
      : ['provider_unavailable', 'provider_timeout'].includes(failure.code);
  if (!providerTrouble) return undefined;
  const delay = Math.min(
    PROVIDER_BACKOFF_BASE_MS * 2 ** Math.max(0, consecutive - 1),
    PROVIDER_BACKOFF_MAX_MS,
  );
  return Math.round(delay * (0.75 + random() * 0.5));
}

/** wake() looks for due accounts now; stop() waits for the refreshes in flight. */
export type RefreshWorker = ClaimLoop;

/**
 * Keeps OAuth tokens fresh in the background, in `serve` and in `plugboard worker` alike: at most
 * `concurrency` refreshes in flight per process, each account claimed by one process at a time, a
 * provider that rate-limits or fails paused (Retry-After honoured) while the others go on.
 */
export function startRefreshWorker(
  deps: RefreshDeps & {
    config: RefreshWorkerConfig;
    log?: { warn(obj: unknown, msg?: string): void };
    metrics?: Pick<Metrics, 'tokenRefreshes' | 'tokenRefreshLag'>;
  },
): RefreshWorker {
  const { config } = deps;
  const pausedUntil = new Map<string, number>();
  const failuresInARow = new Map<string, number>();

  const paused = () => {
    const now = Date.now();
    for (const [provider, until] of pausedUntil) if (until <= now) pausedUntil.delete(provider);
    return [...pausedUntil.keys()];
  };

  const refresh = async (row: LinkedAccountRow) => {
    const lagMs = Date.now() - (row.token_expires_at!.getTime() - REFRESH_MARGIN_MS);
    // Forced: the claim already judged it due; under the row lock freshCredentials still skips the
    // call if a read refreshed the account meanwhile (its updated_at moved).
    await freshCredentials(deps, row, {
      force: true,
      observe: (outcome) => {
        if (outcome.refreshed) {
          failuresInARow.delete(row.provider);
          deps.metrics?.tokenRefreshes.inc({ outcome: 'refreshed' });
          deps.metrics?.tokenRefreshLag.observe(Math.max(0, lagMs) / 1000);
          return;
        }
        deps.metrics?.tokenRefreshes.inc({ outcome: 'failed' });
        const consecutive = (failuresInARow.get(row.provider) ?? 0) + 1;
        const pause = providerPauseMs(outcome.failure, consecutive);
        if (pause !== undefined) {
          failuresInARow.set(row.provider, consecutive);
          pausedUntil.set(row.provider, Math.max(pausedUntil.get(row.provider) ?? 0, Date.now() + pause));
        }
      },
    }).catch(() => {
      // Failures are recorded on the account (status, backoff, events); reads report them.
    });
  };

  // Claims are made for a quarter of the slots at least: one claim per finished refresh would make the
  // claim loop (one transaction at a time) the limit under load.
  return startClaimLoop({
    pollMs: config.pollMs,
    concurrency: config.concurrency,
    minBatch: Math.max(1, Math.floor(config.concurrency / 4)),
    claim: (room) => claimDueRefreshes(deps.db, room, config.leaseMs, paused()),
    run: refresh,
    onClaimError: (err) => deps.log?.warn({ err }, 'claiming due token refreshes failed'),
    onRunError: (err, row) => deps.log?.warn({ err, account: row.id }, 'background token refresh failed'),
  });
}
