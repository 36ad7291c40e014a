import { sql } from 'kysely';
import type { ConsoleConfig } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { DomainError, unauthorized } from '../../errors.ts';
import { normalizeEmail, type OperatorInfo } from './operators.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { type ConsoleSession, openSession } from './sessions.ts';

export interface SignInDeps {
  db: Db;
  config: ConsoleConfig;
}

const ADDRESS_FACTOR = 4;

// Verified when the email is unknown, so a wrong email costs as long as a wrong password.
const decoy = hashPassword('plugboard-decoy-password');

/**
 * Signs an operator in. Failures are counted per client address and per email in the database (so
 * every process shares them); once either reaches its limit within the window (the address's is four
 * times the email's), sign-in answers 429
 * with Retry-After until the window ends, even with the right password.
 */
export async function signIn(
  deps: SignInDeps,
  input: { email: string; password: string; address: string },
): Promise<{ session: ConsoleSession; operator: OperatorInfo }> {
  const email = normalizeEmail(input.email);
  const subjects = [`ip:${input.address}`, `email:${email}`];
  await refuseWhileLocked(deps, subjects);
  const operator = await deps.db
    .selectFrom('operators')
    .selectAll()
    .where('email', '=', email)
    .executeTakeFirst();
  const ok = await verifyPassword(input.password, operator?.password_hash ?? (await decoy));
  if (!operator || !ok) {
    await countFailure(deps, subjects);
    throw unauthorized(
      `Wrong email or password. After ${deps.config.maxFailures} failed tries, sign-in pauses for ${Math.ceil(deps.config.lockoutSeconds / 60)} minutes; an administrator can create a new one-time password with "plugboard operators reset-password".`,
    );
  }
  await deps.db.deleteFrom('console_sign_in_failures').where('subject', '=', `email:${email}`).execute();
  return openSession(deps, operator);
}

async function refuseWhileLocked(deps: SignInDeps, subjects: string[]): Promise<void> {
  const row = await deps.db
    .selectFrom('console_sign_in_failures')
    .select(
      sql<number>`ceil(extract(epoch from (max(window_started_at) + make_interval(secs => ${deps.config.lockoutSeconds}) - now())))`.as(
        'retry_after',
      ),
    )
    // An address (an office behind one NAT) gets more tries than one email.
    .where((eb) =>
      eb.or([
        eb.and([
          eb('subject', '=', subjects[0]!),
          eb('failures', '>=', deps.config.maxFailures * ADDRESS_FACTOR),
        ]),
        eb.and([eb('subject', '=', subjects[1]!), eb('failures', '>=', deps.config.maxFailures)]),
      ]),
    )
    .where('window_started_at', '>', sql<Date>`now() - make_interval(secs => ${deps.config.lockoutSeconds})`)
    .executeTakeFirst();
  const retryAfter = Number(row?.retry_after ?? 0);
  if (retryAfter > 0) {
    throw new DomainError(
      'rate_limited',
      `Too many failed sign-ins. Wait ${Math.ceil(retryAfter / 60)} minute(s) and try again, or ask an administrator to reset your password.`,
      { retryAfterSeconds: retryAfter },
    );
  }
}

async function countFailure({ db, config }: SignInDeps, subjects: string[]): Promise<void> {
  // A window older than the lockout starts over.
  const stale = sql`now() - make_interval(secs => ${config.lockoutSeconds})`;
  for (const subject of subjects) {
    await sql`
      insert into console_sign_in_failures (subject, failures, window_started_at)
      values (${subject}, 1, now())
      on conflict (subject) do update set
        failures = case when console_sign_in_failures.window_started_at < ${stale}
          then 1 else console_sign_in_failures.failures + 1 end,
        window_started_at = case when console_sign_in_failures.window_started_at < ${stale}
          then now() else console_sign_in_failures.window_started_at end`.execute(db);
  }
}
