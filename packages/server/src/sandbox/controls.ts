import { hashSecret } from '../crypto/tokens.ts';
import { accountAad, type Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import type { SandboxRefreshError } from '../db/schema.ts';
import { DomainError, notFound } from '../errors.ts';
import { findAccount } from '../services/accounts.ts';
import type { ProjectContext } from '../services/tenancy.ts';
import { isSandboxConnector } from './constants.ts';

/**
 * Levers for integrators: make a sandbox_oauth account's next refreshes fail, or its access token
 * expire now, to see account.refresh_failed, the expired status and account.refresh_recovered happen.
 */

interface ControlDeps {
  db: Db;
  vault: Vault;
}

/** The sandbox grant behind one of the project's sandbox_oauth accounts (404 for any other account). */
async function grantOf(deps: ControlDeps, project: ProjectContext, accountId: string) {
  const account = await findAccount(deps.db, project.projectId, accountId);
  if (!account || !isSandboxConnector(account.provider)) throw notFound(`Sandbox account ${accountId}`);
  if (account.provider !== 'sandbox_oauth') {
    throw new DomainError(
      'unprocessable',
      'This sandbox account connects with an API key, which neither expires nor refreshes; use a sandbox_oauth account.',
    );
  }
  const credentials = account.credentials_enc
    ? await deps.vault.decryptJson<{ refresh_token?: string }>(
        account.credentials_enc,
        accountAad(account.project_id, account.id),
      )
    : {};
  const token = credentials.refresh_token
    ? await deps.db
        .selectFrom('sandbox_oauth_tokens')
        .select('grant_id')
        .where('token_hash', '=', hashSecret(credentials.refresh_token))
        .executeTakeFirst()
    : undefined;
  if (!token) {
    throw new DomainError(
      'unprocessable',
      'The sandbox does not know the tokens of this account (issued by another database?); connect it again.',
    );
  }
  return { account, grantId: token.grant_id };
}

/**
 * The next `count` refreshes of the account's token fail: with invalid_grant (a refusal, which Plugboard
 * takes as final: the account turns expired) or temporarily_unavailable (a 503 outage, retried with
 * backoff). The refresh token itself stays good either way.
 */
export async function failNextRefresh(
  deps: ControlDeps,
  project: ProjectContext,
  accountId: string,
  input: { count: number; error: SandboxRefreshError },
) {
  const { grantId } = await grantOf(deps, project, accountId);
  await deps.db
    .updateTable('sandbox_oauth_grants')
    .set({ failing_refreshes: input.count, failing_refresh_error: input.error })
    .where('id', '=', grantId)
    .execute();
  return { account_id: accountId, failing_refreshes: input.count, error: input.error };
}

/**
 * The account's access token stops working now, at the sandbox and in Plugboard's record of it, so
 * the next use of the account (the proxy, GET /accounts/{id}/credentials) refreshes it first.
 */
export async function expireToken(deps: ControlDeps, project: ProjectContext, accountId: string) {
  const { account, grantId } = await grantOf(deps, project, accountId);
  const now = new Date();
  await deps.db.transaction().execute(async (tx) => {
    await tx
      .updateTable('sandbox_oauth_tokens')
      .set({ expires_at: now })
      .where('grant_id', '=', grantId)
      .where('kind', '=', 'access')
      .where('expires_at', '>', now)
      .execute();
    await tx
      .updateTable('linked_accounts')
      .set({ token_expires_at: now })
      .where('id', '=', account.id)
      .execute();
  });
  return { account_id: accountId, token_expires_at: now.toISOString() };
}
