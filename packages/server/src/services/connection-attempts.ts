import { sql } from 'kysely';
import { generateId } from '../crypto/tokens.ts';
import type { Db, Tx } from '../db/database.ts';
import type { ConnectionAttemptRow, ConnectSessionRow } from '../db/schema.ts';
import { notFound } from '../errors.ts';
import { recordEvent } from '../webhooks/events.ts';
import type { ProjectContext } from './tenancy.ts';

/** An attempt nobody finished within this time counts as abandoned ("expired"). */
export const ATTEMPT_LIFETIME_SECONDS = 15 * 60;

export type AttemptStatus = 'pending' | 'authenticated' | 'error' | 'cancelled' | 'expired';

export interface AttemptTarget {
  integrationId?: string;
  provider?: string;
}

export async function createAttempt(
  db: Db | Tx,
  session: ConnectSessionRow,
  target: AttemptTarget = {},
): Promise<ConnectionAttemptRow> {
  return db
    .insertInto('connection_attempts')
    .values({
      id: generateId('att_'),
      project_id: session.project_id,
      session_id: Number(session.id),
      origin_owner_id: session.origin_owner_id,
      integration_id: target.integrationId ?? null,
      provider: target.provider ?? null,
      status: 'pending',
      expires_at: sql<Date>`now() + make_interval(secs => ${ATTEMPT_LIFETIME_SECONDS})` as never,
      updated_at: sql<Date>`now()` as never,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The hub creates its attempt before the user picks a provider (StackOne's protocol sends only the
 * token); the flow that then starts names the provider and integration it is for.
 */
export async function assignAttemptTarget(db: Db, id: string, target: Required<AttemptTarget>) {
  await db
    .updateTable('connection_attempts')
    .set({ integration_id: target.integrationId, provider: target.provider, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/**
 * A connect that failed before any attempt existed (a form whose credentials the provider refused):
 * recorded as a failed attempt with its reason, and announced, in one transaction.
 */
export async function recordFailedAttempt(
  db: Db,
  session: ConnectSessionRow,
  target: Required<AttemptTarget>,
  error: { code: string; description: string },
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const attempt = await createAttempt(tx, session, target);
    await finishInTransaction(tx, attempt.id, { status: 'error', ...error });
  });
}

/** A form connect the provider accepted: recorded as an authenticated attempt for its account. */
export async function recordSucceededAttempt(
  db: Db,
  session: ConnectSessionRow,
  target: Required<AttemptTarget>,
  accountId: string,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const attempt = await createAttempt(tx, session, target);
    await finishInTransaction(tx, attempt.id, { status: 'authenticated', accountId });
  });
}

/** The status as callers see it: a pending attempt past its lifetime is reported as expired. */
export function effectiveStatus(row: ConnectionAttemptRow): AttemptStatus {
  if (row.status === 'pending' && row.expires_at.getTime() < Date.now()) return 'expired';
  return row.status as AttemptStatus;
}

export function toHubAttempt(row: ConnectionAttemptRow) {
  return {
    id: row.id,
    status: effectiveStatus(row),
    account: row.account_id ? { id: row.account_id } : null,
    error: row.error_code ? { code: row.error_code, description: row.error_description ?? '' } : null,
  };
}

export function toAttempt(row: ConnectionAttemptRow) {
  return {
    ...toHubAttempt(row),
    connect_session_id: Number(row.session_id),
    origin_owner_id: row.origin_owner_id,
    integration_id: row.integration_id,
    provider: row.provider,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** An attempt of this session (another session's attempt is "not found"). */
export async function sessionAttempt(
  db: Db,
  session: ConnectSessionRow,
  id: string,
): Promise<ConnectionAttemptRow> {
  const row = await db
    .selectFrom('connection_attempts')
    .selectAll()
    .where('id', '=', id)
    .where('session_id', '=', session.id as never)
    .executeTakeFirst();
  if (!row) throw notFound(`Connection attempt ${id}`);
  return row;
}

/** Cancelling only changes a pending attempt; a finished one keeps its outcome. */
export async function cancelAttempt(db: Db, session: ConnectSessionRow, id: string): Promise<void> {
  await sessionAttempt(db, session, id);
  await finishAttempt(db, id, { status: 'cancelled' });
}

export async function finishAttempt(
  db: Db,
  id: string,
  outcome:
    | { status: 'authenticated'; accountId: string }
    | { status: 'error'; code: string; description: string }
    | { status: 'cancelled' },
): Promise<void> {
  await db.transaction().execute((tx) => finishInTransaction(tx, id, outcome));
}

async function finishInTransaction(
  tx: Tx,
  id: string,
  outcome: Parameters<typeof finishAttempt>[2],
): Promise<void> {
  const finished = await tx
    .updateTable('connection_attempts')
    .set({
      status: outcome.status,
      ...(outcome.status === 'authenticated' ? { account_id: outcome.accountId } : {}),
      ...(outcome.status === 'error'
        ? { error_code: outcome.code, error_description: outcome.description }
        : {}),
      updated_at: sql<Date>`now()` as never,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
  if (finished?.status !== 'error') return;
  const session = await tx
    .selectFrom('connect_sessions')
    .select(['origin_owner_name', 'origin_username', 'webhook_url'])
    .where('id', '=', finished.session_id as never)
    .executeTakeFirst();
  await recordEvent(tx, {
    projectId: finished.project_id,
    type: 'connection_attempt.failed',
    recordType: 'connection_attempt',
    recordId: finished.id,
    data: {
      connection_attempt_id: finished.id,
      connect_session_id: Number(finished.session_id),
      origin_owner_id: finished.origin_owner_id,
      origin_owner_name: session?.origin_owner_name ?? null,
      origin_username: session?.origin_username ?? null,
      provider: finished.provider,
      integration_id: finished.integration_id,
      error: { code: finished.error_code, description: finished.error_description },
    },
    webhookUrl: session?.webhook_url,
  });
}

/** Beyond the reference: every attempt of the project, newest first, optionally for one end customer. */
export async function listAttempts(
  db: Db,
  project: ProjectContext,
  query: { origin_owner_id?: string; page: number; page_size: number },
) {
  let q = db.selectFrom('connection_attempts').selectAll().where('project_id', '=', project.projectId);
  if (query.origin_owner_id) q = q.where('origin_owner_id', '=', query.origin_owner_id);
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(query.page_size)
    .offset((query.page - 1) * query.page_size)
    .execute();
  return rows.map(toAttempt);
}
