import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { ConsoleConfig } from '../../config.ts';
import { generateSecret, hashSecret } from '../../crypto/tokens.ts';
import type { Db } from '../../db/database.ts';
import type { OperatorRow } from '../../db/schema.ts';
import { type OperatorInfo, toOperatorInfo } from './operators.ts';

export interface ConsoleSession {
  /** The cookie value; only its hash is stored. */
  token: string;
  /** What the console sends in x-csrf-token on unsafe requests. */
  csrfToken: string;
  expiresAt: Date;
}

export interface SignedInOperator {
  operator: OperatorInfo;
  sessionHash: string;
  csrfTokenHash: string;
  csrfToken: string;
}

/**
 * The CSRF token is derived from the session token, so the console can get it again after a reload
 * without it being stored anywhere; a page on another site can read neither.
 */
const csrfFor = (token: string) => createHash('sha256').update(`csrf:${token}`).digest('base64url');

export async function openSession(
  deps: { db: Db; config: ConsoleConfig },
  operator: OperatorRow,
): Promise<{ session: ConsoleSession; operator: OperatorInfo }> {
  const token = generateSecret('pbop_');
  const csrfToken = csrfFor(token);
  const expiresAt = new Date(Date.now() + deps.config.absoluteHours * 3600_000);
  await deps.db
    .insertInto('console_sessions')
    .values({
      id_hash: hashSecret(token),
      operator_id: operator.id,
      csrf_token_hash: hashSecret(csrfToken),
      expires_at: expiresAt,
    })
    .execute();
  return { session: { token, csrfToken, expiresAt }, operator: toOperatorInfo(operator) };
}

/** The operator behind a session cookie, or undefined when it is unknown, idle too long or expired. */
export async function findSession(
  deps: { db: Db; config: ConsoleConfig },
  token: string,
): Promise<SignedInOperator | undefined> {
  const idHash = hashSecret(token);
  const row = await deps.db
    .selectFrom('console_sessions as s')
    .innerJoin('operators as o', 'o.id', 's.operator_id')
    .select([
      's.csrf_token_hash',
      's.last_seen_at',
      'o.id',
      'o.email',
      'o.must_change_password',
      'o.created_at',
      'o.password_changed_at',
    ])
    .where('s.id_hash', '=', idHash)
    .where('s.expires_at', '>', sql<Date>`now()`)
    .where('s.last_seen_at', '>', sql<Date>`now() - make_interval(mins => ${deps.config.idleMinutes})`)
    .executeTakeFirst();
  if (!row) return undefined;
  // At most one write a minute per session keeps the idle clock without a write per request.
  if (Date.now() - row.last_seen_at.getTime() > 60_000) {
    await deps.db
      .updateTable('console_sessions')
      .set({ last_seen_at: sql<Date>`now()` as never })
      .where('id_hash', '=', idHash)
      .execute();
  }
  return {
    operator: toOperatorInfo(row),
    sessionHash: idHash,
    csrfTokenHash: row.csrf_token_hash,
    csrfToken: csrfFor(token),
  };
}

export async function closeSession(db: Db, sessionHash: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('id_hash', '=', sessionHash).execute();
}

/** Ends every other session of the operator (after a password change) and expired ones of anybody. */
export async function closeOtherSessions(db: Db, operatorId: string, keepHash: string): Promise<void> {
  await db
    .deleteFrom('console_sessions')
    .where((eb) =>
      eb.or([
        eb.and([eb('operator_id', '=', operatorId), eb('id_hash', '!=', keepHash)]),
        eb('expires_at', '<', sql<Date>`now()`),
      ]),
    )
    .execute();
}
