import { sql } from 'kysely';
import { generateId } from '../../crypto/tokens.ts';
import type { Db } from '../../db/database.ts';
import { conflict, validationFailed } from '../../errors.ts';
import { generatePassword, hashPassword, passwordProblem } from './passwords.ts';

export interface OperatorInfo {
  id: string;
  email: string;
  must_change_password: boolean;
  created_at: string;
  password_changed_at: string | null;
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * Creates an operator. Without a password a one-time one is generated (and returned, once); either
 * way the operator must choose their own at first sign-in unless they chose this one themselves.
 */
export async function createOperator(
  db: Db,
  input: { email: string; password?: string },
): Promise<{ operator: OperatorInfo; password: string }> {
  const email = normalizeEmail(input.email);
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320)
    throw validationFailed(`"${input.email}" is not an email address.`);
  const chosen = input.password !== undefined;
  const password = input.password ?? generatePassword();
  const problem = passwordProblem(password, email);
  if (problem) throw validationFailed(problem);
  const existing = await db
    .selectFrom('operators')
    .select('id')
    .where('email', '=', email)
    .executeTakeFirst();
  if (existing) throw conflict(`An operator with email ${email} already exists.`);
  const row = await db
    .insertInto('operators')
    .values({
      id: generateId('op_'),
      email,
      password_hash: await hashPassword(password),
      must_change_password: !chosen,
      password_changed_at: chosen ? (sql<Date>`now()` as never) : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { operator: toOperatorInfo(row), password };
}

export async function listOperators(db: Db): Promise<OperatorInfo[]> {
  const rows = await db.selectFrom('operators').selectAll().orderBy('created_at').execute();
  return rows.map(toOperatorInfo);
}

export function toOperatorInfo(row: {
  id: string;
  email: string;
  must_change_password: boolean;
  created_at: Date;
  password_changed_at: Date | null;
}): OperatorInfo {
  return {
    id: row.id,
    email: row.email,
    must_change_password: row.must_change_password,
    created_at: row.created_at.toISOString(),
    password_changed_at: row.password_changed_at?.toISOString() ?? null,
  };
}
