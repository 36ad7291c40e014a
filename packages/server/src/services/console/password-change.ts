import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { validationFailed } from '../../errors.ts';
import { generatePassword, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { closeOtherSessions } from './sessions.ts';

/** An operator replaces their password; their other sessions end. */
export async function changePassword(
  db: Db,
  input: { operatorId: string; sessionHash: string; current: string; next: string },
): Promise<void> {
  const row = await db
    .selectFrom('operators')
    .select(['email', 'password_hash'])
    .where('id', '=', input.operatorId)
    .executeTakeFirstOrThrow();
  if (!(await verifyPassword(input.current, row.password_hash)))
    // 400, not 401: the session is fine, only this form's field is wrong.
    throw validationFailed('The current password is wrong. Type the password you signed in with.');
  const problem = passwordProblem(input.next, row.email);
  if (problem) throw validationFailed(problem);
  if (input.next === input.current)
    throw validationFailed('Choose a password different from the current one.');
  await db
    .updateTable('operators')
    .set({
      password_hash: await hashPassword(input.next),
      must_change_password: false,
      password_changed_at: sql<Date>`now()` as never,
    })
    .where('id', '=', input.operatorId)
    .execute();
  await closeOtherSessions(db, input.operatorId, input.sessionHash);
}

/** An administrator (CLI) gives an operator a new one-time password; every session of theirs ends. */
export async function resetPassword(db: Db, email: string): Promise<string | undefined> {
  const password = generatePassword();
  const row = await db
    .updateTable('operators')
    .set({ password_hash: await hashPassword(password), must_change_password: true })
    .where('email', '=', email.trim().toLowerCase())
    .returning('id')
    .executeTakeFirst();
  if (!row) return undefined;
  await db.deleteFrom('console_sessions').where('operator_id', '=', row.id).execute();
  await db
    .deleteFrom('console_sign_in_failures')
    .where('subject', '=', `email:${email.trim().toLowerCase()}`)
    .execute();
  return password;
}
