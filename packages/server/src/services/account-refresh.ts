import { notFound } from '../errors.ts';
import type { LinkedAccount } from '../schemas/accounts.ts';
import { type AccountDeps, findAccount, toLinkedAccount } from './accounts.ts';
import { audit } from './audit.ts';
import type { ProjectContext } from './tenancy.ts';
import { freshCredentials } from './token-refresh.ts';

/**
 * Refreshes an OAuth account's tokens now instead of shortly before they expire: what an operator does
 * after fixing a provider-side problem, to see at once whether the account works again. Accounts
 * without OAuth get 422 from the refresher, which says so.
 */
export async function refreshAccountNow(
  deps: AccountDeps & { providerTimeoutMs: number },
  project: ProjectContext,
  id: string,
): Promise<LinkedAccount> {
  const row = await findAccount(deps.db, project.projectId, id);
  if (!row) throw notFound(`Account ${id}`);
  await freshCredentials(deps, row, { force: true });
  const after = await findAccount(deps.db, project.projectId, id);
  if (!after) throw notFound(`Account ${id}`);
  const account = toLinkedAccount(after, deps.catalogue);
  // The new tokens are not in the log; only that a refresh happened and the resulting status.
  await audit(deps.db, project, {
    action: 'account.refreshed',
    targetType: 'account',
    targetId: id,
    after: { status: account.status, status_reasons: account.status_reasons },
  });
  return account;
}
