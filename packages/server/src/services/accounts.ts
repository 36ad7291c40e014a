import { sql } from 'kysely';
import { type AccountEntry, cachesOf } from '../cache/data-caches.ts';
import type { Catalogue } from '../connectors/catalogue.ts';
import { accountAad, type Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import type { LinkedAccountRow } from '../db/schema.ts';
import { notFound, validationFailed } from '../errors.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import type { AccountListQuery, AccountPatch, AccountStatus, LinkedAccount } from '../schemas/accounts.ts';
import type { Category } from '../schemas/common.ts';
import { recordAccountEvent } from '../webhooks/events.ts';
import { audit } from './audit.ts';
import type { ProjectContext } from './tenancy.ts';
import { freshCredentials, REFRESH_MARGIN_MS, refreshDecision } from './token-refresh.ts';

export interface AccountDeps {
  db: Db;
  vault: Vault;
  catalogue: Catalogue;
}

/**
 * Stable order (creation time, then id) so pages never skip or repeat rows. With a cursor (the last
 * row's position, from the previous page) the page starts right after it through the index, instead
 * of counting `offset` rows first: the last page of 100k accounts costs what the first does.
 * `next` is the cursor of the following page, present when this page is full.
 */
export async function listAccounts(
  deps: AccountDeps,
  project: ProjectContext,
  query: AccountListQuery,
): Promise<{ accounts: LinkedAccount[]; next: string | undefined }> {
  let q = deps.db
    .selectFrom('linked_accounts')
    .selectAll()
    // The exact stored timestamp (microseconds; a JS Date keeps milliseconds only) for the cursor.
    .select(sql<string>`created_at::text`.as('position'))
    .where('project_id', '=', project.projectId);
  const owners = [
    ...(query.origin_owner_ids ?? []),
    ...(query.origin_owner_id ? [query.origin_owner_id] : []),
  ];
  if (owners.length) q = q.where('origin_owner_id', 'in', owners);
  const providers = [...(query.providers ?? []), ...(query.provider ? [query.provider] : [])];
  if (providers.length) q = q.where('provider', 'in', providers);
  if (query.status?.length) q = q.where('status', 'in', query.status);
  if (query.account_ids?.length) q = q.where('id', 'in', query.account_ids);
  if (query.type) q = q.where('type', '=', query.type);
  if (query.search) {
    // A substring, not a pattern: the operator's % and _ match themselves.
    const pattern = `%${query.search.replace(/[\\%_]/g, '\\$&')}%`;
    q = q.where(
      sql<boolean>`(origin_owner_id ilike ${pattern} escape '\\' or origin_owner_name ilike ${pattern} escape '\\')`,
    );
  }
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    q = q.where(sql<boolean>`(created_at, id) > (${after.createdAt}::timestamptz, ${after.id})`);
  }
  const rows = await q
    .orderBy('created_at')
    .orderBy('id')
    .limit(query.page_size)
    .offset(query.cursor !== undefined ? 0 : (query.page - 1) * query.page_size)
    .execute();
  const last = rows.at(-1);
  return {
    accounts: rows.map(({ position: _, ...row }) => toLinkedAccount(row, deps.catalogue)),
    next: last && rows.length === query.page_size ? encodeCursor(last.position, last.id) : undefined,
  };
}

const encodeCursor = (createdAt: string, id: string) =>
  Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(createdAt))) {
      return { createdAt, id };
    }
  } catch {
    // Reported below, like any other malformed cursor.
  }
  throw validationFailed('query.cursor is not a cursor this server gave out; start again without it.', [
    'query.cursor: malformed',
  ]);
}

export async function findAccount(
  db: Db,
  projectId: string,
  id: string,
): Promise<LinkedAccountRow | undefined> {
  return db
    .selectFrom('linked_accounts')
    .selectAll()
    .where('id', '=', id)
    .where('project_id', '=', projectId)
    .executeTakeFirst();
}

/**
 * An account ready to use (proxy, credentials endpoint): its row, its auth config's method and URLs,
 * and its fresh decrypted credentials, in one query when not cached. Cached for a few seconds only
 * while its stored token needs no refresh, never past the refresh margin; any change to the row or
 * its auth config removes it from every process's cache.
 */
export async function accountForUse(
  deps: AccountDeps & { outbound: OutboundClient },
  projectId: string,
  id: string,
): Promise<AccountEntry> {
  const caches = cachesOf(deps.db);
  const hit = caches?.accounts.get(id);
  if (hit && hit.row.project_id !== projectId) throw notFound(`Account ${id}`);
  if (hit && refreshDecision(hit.row) === 'use') return hit;
  if (hit) caches?.accounts.delete(id);
  const load = async (): Promise<AccountEntry | undefined> => {
    const found = await deps.db
      .selectFrom('linked_accounts')
      .leftJoin('integrations', (join) =>
        join
          .onRef('integrations.id', '=', 'linked_accounts.integration_id')
          .onRef('integrations.project_id', '=', 'linked_accounts.project_id'),
      )
      .selectAll('linked_accounts')
      .select([
        'integrations.auth_method as integration_auth_method',
        'integrations.urls as integration_urls',
      ])
      .where('linked_accounts.id', '=', id)
      .where('linked_accounts.project_id', '=', projectId)
      .executeTakeFirst();
    if (!found) return undefined;
    const { integration_auth_method, integration_urls, ...row } = found;
    const integration =
      row.integration_id && integration_auth_method !== null
        ? { id: row.integration_id, auth_method: integration_auth_method, urls: integration_urls }
        : undefined;
    return { row, integration, credentials: await freshCredentials(deps, row) };
  };
  const entry = caches
    ? await caches.accounts.load(id, load, (loaded) =>
        // A refresh just happened (or is due): the row read is stale, so nothing is stored.
        refreshDecision(loaded.row) !== 'use'
          ? 0
          : loaded.row.token_expires_at
            ? loaded.row.token_expires_at.getTime() - REFRESH_MARGIN_MS - Date.now()
            : Number.POSITIVE_INFINITY,
      )
    : await load();
  if (!entry) throw notFound(`Account ${id}`);
  return entry;
}

/** Drops an account from this process's cache at once (others hear of the change by notice). */
export function forgetAccount(db: Db, id: string): void {
  cachesOf(db)?.accounts.delete(id);
}

async function accountOrFail(db: Db, project: ProjectContext, id: string): Promise<LinkedAccountRow> {
  const row = await findAccount(db, project.projectId, id);
  if (!row) throw notFound(`Account ${id}`);
  return row;
}

export async function getAccount(
  deps: AccountDeps,
  project: ProjectContext,
  id: string,
): Promise<LinkedAccount> {
  return toLinkedAccount(await accountOrFail(deps.db, project, id), deps.catalogue);
}

export async function deleteAccount(
  deps: AccountDeps,
  project: ProjectContext,
  id: string,
): Promise<LinkedAccount> {
  const row = await deps.db.transaction().execute(async (tx) => {
    const deleted = await tx
      .deleteFrom('linked_accounts')
      .where('id', '=', id)
      .where('project_id', '=', project.projectId)
      .returningAll()
      .executeTakeFirst();
    if (!deleted) throw notFound(`Account ${id}`);
    await recordAccountEvent(tx, 'account.deleted', deleted);
    await audit(tx, project, {
      action: 'account.deleted',
      targetType: 'account',
      targetId: id,
      before: toLinkedAccount(deleted, deps.catalogue),
    });
    return deleted;
  });
  forgetAccount(deps.db, id);
  return toLinkedAccount(row, deps.catalogue);
}

/**
 * PATCH /accounts/{id}. Credentials and setup information merge key by key into what is stored (send
 * only what changes); metadata and the owner fields replace. The provider of an account is fixed.
 */
export async function updateAccount(
  deps: AccountDeps,
  project: ProjectContext,
  id: string,
  patch: AccountPatch,
): Promise<LinkedAccount> {
  const row = await deps.db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom('linked_accounts')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', project.projectId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw notFound(`Account ${id}`);
    if (patch.provider && patch.provider !== current.provider) {
      throw validationFailed(
        `An account's provider cannot change (this one is "${current.provider}"). Connect a new account instead.`,
      );
    }
    if (patch.setup_information) checkSettings(deps.catalogue, current.provider, patch.setup_information);
    const secretChanges = { ...(patch.credentials ?? {}), ...(patch.secrets ?? {}) };
    let encrypted: { ciphertext: string; keyVersion: number } | undefined;
    if (Object.keys(secretChanges).length > 0) {
      const aad = accountAad(project.projectId, id);
      const stored = current.credentials_enc
        ? await deps.vault.decryptJson<Record<string, unknown>>(current.credentials_enc, aad)
        : {};
      encrypted = deps.vault.encryptJson({ ...stored, ...secretChanges }, aad);
    }
    const updated = await tx
      .updateTable('linked_accounts')
      .set({
        ...(typeof patch.label === 'string' || patch.label === null ? { label: patch.label } : {}),
        ...(patch.metadata !== undefined
          ? { metadata: patch.metadata ? JSON.stringify(patch.metadata) : null }
          : {}),
        ...(patch.origin_owner_id ? { origin_owner_id: patch.origin_owner_id } : {}),
        ...(patch.origin_owner_name ? { origin_owner_name: patch.origin_owner_name } : {}),
        ...(patch.origin_username !== undefined ? { origin_username: patch.origin_username } : {}),
        ...(patch.type ? { type: patch.type } : {}),
        ...(patch.setup_information
          ? {
              setup_information: JSON.stringify({
                ...(current.setup_information ?? {}),
                ...patch.setup_information,
              }),
            }
          : {}),
        ...(encrypted ? { credentials_enc: encrypted.ciphertext, key_version: encrypted.keyVersion } : {}),
        updated_at: sql<Date>`now()` as never,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAccountEvent(tx, 'account.updated', updated);
    await audit(tx, project, {
      action: 'account.updated',
      targetType: 'account',
      targetId: id,
      before: toLinkedAccount(current, deps.catalogue),
      after: toLinkedAccount(updated, deps.catalogue),
    });
    return updated;
  });
  forgetAccount(deps.db, id);
  return toLinkedAccount(row, deps.catalogue);
}

/**
 * Setup values fill the connector's URL templates (a subdomain becomes part of a host), so a PATCH must
 * meet the same rules as the hub's form: the field's validation pattern, and text without control
 * characters.
 */
function checkSettings(catalogue: Catalogue, provider: string, settings: Record<string, unknown>): void {
  const fields = new Map(
    (catalogue.get(provider)?.auth ?? []).flatMap((method) => method.fields.map((f) => [f.key, f] as const)),
  );
  const problems: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    const field = fields.get(key);
    if (!field) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
    if (typeof value !== 'string' || /[\u0000-\u001f]/.test(text)) {
      problems.push(`body.setup_information.${key}: must be text without control characters`);
    } else if (field.validation && !new RegExp(field.validation.pattern).test(value)) {
      problems.push(`body.setup_information.${key}: ${field.validation.message}`);
    }
  }
  if (problems.length) throw validationFailed(`Invalid setup information: ${problems.join('; ')}`, problems);
}

/** Beyond the reference: the decrypted credentials, for the integrator's backend to call the provider. */
export async function getAccountCredentials(
  deps: AccountDeps & { outbound: OutboundClient },
  project: ProjectContext,
  id: string,
) {
  // OAuth tokens about to expire are refreshed first, so callers always get a working token.
  const { row, integration, credentials } = await accountForUse(deps, project.projectId, id);
  return {
    id: row.id,
    provider: row.provider,
    authentication_config_key: integration?.auth_method ?? null,
    credentials,
    setup_information: row.setup_information,
  };
}

/**
 * Beyond the reference ("refresh now"): refreshes an OAuth account's token at once, whatever its expiry
 * or backoff; a success brings an expired account back. Answers the account as it is afterwards.
 */
export async function refreshAccount(
  deps: AccountDeps & { outbound: OutboundClient },
  project: ProjectContext,
  id: string,
): Promise<LinkedAccount> {
  const row = await accountOrFail(deps.db, project, id);
  if (row.token_expires_at === null) {
    throw validationFailed(`Account ${id} has no token that expires; there is nothing to refresh.`);
  }
  await freshCredentials(deps, row, { force: true });
  const account = await getAccount(deps, project, id);
  // Who forced a refresh and how it ended; the tokens themselves are not logged.
  await audit(deps.db, project, {
    action: 'account.refreshed',
    targetType: 'account',
    targetId: id,
    after: { status: account.status, status_reasons: account.status_reasons },
  });
  return account;
}

export async function getAccountMeta(deps: AccountDeps, project: ProjectContext, id: string) {
  const row = await accountOrFail(deps.db, project, id);
  return { provider: row.provider, category: primaryCategory(deps.catalogue, row.provider), models: {} };
}

function primaryCategory(catalogue: Catalogue, provider: string): Category {
  return catalogue.get(provider)?.categories[0] ?? 'hris';
}

export function toLinkedAccount(row: LinkedAccountRow, catalogue: Catalogue): LinkedAccount {
  return {
    id: row.id,
    provider: row.provider,
    provider_name: catalogue.get(row.provider)?.name ?? null,
    status: row.status as AccountStatus,
    status_reasons: row.status_reasons,
    origin_owner_id: row.origin_owner_id,
    origin_owner_name: row.origin_owner_name,
    origin_username: row.origin_username,
    credentials: null,
    setup_information: row.setup_information,
    label: row.label,
    type: row.type as LinkedAccount['type'],
    integration_id: row.integration_id,
    metadata: row.metadata,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
