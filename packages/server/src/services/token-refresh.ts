import { sql } from 'kysely';
import type { Catalogue } from '../connectors/catalogue.ts';
import { fillTemplate } from '../connectors/schema.ts';
import { accountAad, type Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import type { LinkedAccountRow } from '../db/schema.ts';
import { DomainError } from '../errors.ts';
import { recordAccountEvent } from '../webhooks/events.ts';
import { authMethodOf, effectiveUrls, findIntegration, oauthClientOf } from './integrations.ts';
import {
  clientCredentialsTokens,
  type OAuthTokens,
  ProviderOAuthError,
  refreshTokens,
} from './oauth-client.ts';

export interface RefreshDeps {
  db: Db;
  vault: Vault;
  catalogue: Catalogue;
  providerTimeoutMs: number;
}

/** Refresh this long before expiry, so a token handed out still works for a while. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** Consecutive real refresh failures before the account is marked expired. */
export const MAX_REFRESH_FAILURES = 3;

const needsRefresh = (row: Pick<LinkedAccountRow, 'token_expires_at'>, now = Date.now()) =>
  row.token_expires_at !== null && row.token_expires_at.getTime() - now < REFRESH_MARGIN_MS;

/**
 * Returns the account's credentials, refreshing OAuth tokens first when they are about to expire.
 *
 * Safe across processes: the refresh runs under the account row's lock (SELECT … FOR UPDATE), and the
 * credentials are re-read after the lock is taken, so a process that waited behind another's refresh
 * finds fresh tokens and does not call the provider again. An invalid_grant is checked against the
 * stored refresh token: if it changed meanwhile, another refresh rotated it and its result is used.
 */
export async function freshCredentials(
  deps: RefreshDeps,
  row: LinkedAccountRow,
  /** force: refresh now even if the token is not near expiry (an operator's "refresh now"). */
  options: { force?: boolean } = {},
): Promise<Record<string, unknown>> {
  const due = (r: Pick<LinkedAccountRow, 'token_expires_at'>) => options.force === true || needsRefresh(r);
  const aad = accountAad(row.project_id, row.id);
  const read = (enc: string | null) =>
    enc ? deps.vault.decryptJson<Record<string, unknown>>(enc, aad) : Promise.resolve({});
  if (!due(row)) return read(row.credentials_enc);
  // Resolved before taking the lock: PGlite has one connection, which the transaction will hold.
  const endpoint = await tokenEndpointFor(deps, row, await read(row.credentials_enc));

  const outcome = await deps.db.transaction().execute(async (tx) => {
    const locked = await tx
      .selectFrom('linked_accounts')
      .selectAll()
      .where('id', '=', row.id)
      .forUpdate()
      .executeTakeFirst();
    if (!locked) throw new DomainError('not_found', `Account ${row.id} was deleted.`);
    // decryptSync: no key-ring lookup may run inside the transaction (PGlite has one connection).
    const current = (
      locked.credentials_enc ? JSON.parse(deps.vault.decryptSync(locked.credentials_enc, aad)) : {}
    ) as OAuthTokens;
    if (!due(locked)) return { credentials: current };
    try {
      // Client-credentials tokens are simply requested again; others use their refresh token.
      const next =
        endpoint.method.grant_type === 'client_credentials'
          ? { ...current, ...(await clientCredentialsTokens(endpoint, endpoint.scopes)) }
          : await refreshTokens(endpoint, current);
      const encrypted = deps.vault.encryptJson(next, aad);
      const refreshed = await tx
        .updateTable('linked_accounts')
        .set({
          credentials_enc: encrypted.ciphertext,
          key_version: encrypted.keyVersion,
          token_expires_at: next.expires_at ? new Date(next.expires_at) : null,
          refresh_failures: 0,
          status: 'active',
          status_reasons: null,
          updated_at: sql<Date>`now()` as never,
        })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (locked.status === 'expired') await recordAccountEvent(tx, 'account.refresh_recovered', refreshed);
      return { credentials: next };
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return { failure: err, previous: locked, usedRefreshToken: current.refresh_token };
    }
  });
  if ('credentials' in outcome) return outcome.credentials as unknown as Record<string, unknown>;
  return handleFailure(deps, outcome.failure, outcome.previous, outcome.usedRefreshToken, read);
}

async function handleFailure(
  deps: RefreshDeps,
  failure: DomainError,
  previous: LinkedAccountRow,
  usedRefreshToken: string | undefined,
  read: (enc: string | null) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  // Re-read what is committed now: a concurrent rotation (another process, or a refresh that raced the
  // lock) would have stored a new refresh token; then the invalid_grant was for the old one.
  const latest = await deps.db
    .selectFrom('linked_accounts')
    .selectAll()
    .where('id', '=', previous.id)
    .executeTakeFirst();
  if (latest) {
    const stored = (await read(latest.credentials_enc)) as { refresh_token?: string };
    if (
      failure instanceof ProviderOAuthError &&
      stored.refresh_token &&
      stored.refresh_token !== usedRefreshToken
    ) {
      return stored;
    }
    const failures = latest.refresh_failures + 1;
    const expired = failures >= MAX_REFRESH_FAILURES;
    await deps.db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('linked_accounts')
        .set({
          refresh_failures: failures,
          ...(expired
            ? {
                status: 'expired',
                status_reasons: JSON.stringify([
                  {
                    code: 'refresh_failed',
                    description: failure.message,
                    timestamp: new Date().toISOString(),
                  },
                ]),
              }
            : {}),
          updated_at: sql<Date>`now()` as never,
        })
        .where('id', '=', previous.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      // The event marks the moment the account stops working, not every failed try after it.
      if (expired && latest.status !== 'expired') {
        await recordAccountEvent(tx, 'account.refresh_failed', updated);
      }
    });
  }
  throw failure;
}

async function tokenEndpointFor(
  deps: RefreshDeps,
  row: LinkedAccountRow,
  credentials: Record<string, unknown>,
) {
  const integration = row.integration_id
    ? await findIntegration(deps.db, row.project_id, row.integration_id)
    : undefined;
  const connector = deps.catalogue.get(row.provider);
  if (!integration || !connector) {
    throw new DomainError('unprocessable', 'The auth config of this account is gone; reconnect it.');
  }
  const method = authMethodOf(connector, integration.auth_method);
  if (method.type !== 'oauth2') throw new DomainError('unprocessable', 'This account does not use OAuth.');
  const settings = (row.setup_information ?? {}) as Record<string, string>;
  // Client-credentials accounts carry their own client; authorization-code ones use the auth config's.
  const client =
    method.grant_type === 'client_credentials'
      ? {
          client_id: String(settings.client_id ?? credentials.client_id ?? ''),
          client_secret: String(credentials.client_secret ?? ''),
        }
      : await oauthClientOf(deps.vault, integration);
  if (!client) throw new DomainError('unprocessable', 'This account has no OAuth client to refresh with.');
  return {
    method,
    scopes: integration.oauth_scopes ?? method.scopes,
    tokenUrl: fillTemplate(effectiveUrls(connector, integration).token_url!, settings, { encode: true }),
    clientId: client.client_id,
    clientSecret: client.client_secret,
    timeoutMs: deps.providerTimeoutMs,
  };
}

/**
 * Keeps tokens fresh in the background: every interval, refresh accounts whose token expires soon.
 * Each refresh takes the row lock, so several processes running this never refresh one account twice.
 */
export function startTokenRefresher(
  deps: RefreshDeps,
  everyMs = 60_000,
  log?: (err: unknown) => void,
): () => void {
  const tick = async () => {
    const due = await deps.db
      .selectFrom('linked_accounts')
      .selectAll()
      .where('status', '=', 'active')
      .where('token_expires_at', '<', new Date(Date.now() + REFRESH_MARGIN_MS))
      .orderBy('token_expires_at')
      .limit(50)
      .execute();
    for (const row of due) await freshCredentials(deps, row).catch((err) => log?.(err));
  };
  const timer = setInterval(() => void tick().catch((err) => log?.(err)), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
