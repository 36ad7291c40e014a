import { sql } from 'kysely';
import { cachesOf } from '../cache/data-caches.ts';
import type { Catalogue } from '../connectors/catalogue.ts';
import { fillTemplate } from '../connectors/templates.ts';
import { accountAad, type Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import type { LinkedAccountRow } from '../db/schema.ts';
import { DomainError } from '../errors.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import { recordAccountEvent } from '../webhooks/events.ts';
import { withAccountLock } from './account-lock.ts';
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
  outbound: OutboundClient;
}

/** Refresh this long before expiry, so a token handed out still works for a while. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** First wait after a failed refresh; each further failure waits four times longer, up to 6 h. */
export const REFRESH_RETRY_BASE_MS = 30_000;
const MAX_REFRESH_RETRY_MS = 6 * 3600 * 1000;

/** Wait after `failures` consecutive failed refreshes, ±25 % so accounts that failed together spread out. */
export function refreshRetryDelayMs(failures: number, random = Math.random): number {
  const delay = Math.min(REFRESH_RETRY_BASE_MS * 4 ** Math.max(0, failures - 1), MAX_REFRESH_RETRY_MS);
  return Math.round(delay * (0.75 + random() * 0.5));
}

type Refreshable = Pick<LinkedAccountRow, 'token_expires_at' | 'status' | 'refresh_retry_at'>;

const needsRefresh = (row: Refreshable, now = Date.now()) =>
  row.token_expires_at !== null && row.token_expires_at.getTime() - now < REFRESH_MARGIN_MS;
const tokenStillValid = (row: Refreshable, now = Date.now()) =>
  row.token_expires_at !== null && row.token_expires_at.getTime() > now;

/**
 * What a read of the account does about its token:
 * - use: hand out what is stored (fresh enough, or not a refreshable account);
 * - refresh: call the token endpoint;
 * - reconnect: the provider refused the refresh for good and the retry time has not come (409);
 * - wait: a transient failure's backoff runs and the stored token no longer works (503).
 * Backoff is what keeps an expired or failing account from calling the provider on every read.
 */
export function refreshDecision(row: Refreshable, force = false, now = Date.now()) {
  if (row.token_expires_at === null) return 'use';
  if (force) return 'refresh';
  const retryDue = row.refresh_retry_at === null || row.refresh_retry_at.getTime() <= now;
  if (row.status === 'expired') return retryDue ? 'refresh' : 'reconnect';
  if (!needsRefresh(row, now)) return 'use';
  if (retryDue) return 'refresh';
  return tokenStillValid(row, now) ? 'use' : 'wait';
}

/** The account's refresh token (or client) was refused: only a new connection helps. */
function needsReconnect(row: Pick<LinkedAccountRow, 'provider' | 'status_reasons'>): DomainError {
  const reason = row.status_reasons?.[0]?.description;
  return new DomainError(
    'conflict',
    `This account needs reconnecting: ${row.provider} refused to refresh its access${reason ? ` (${reason})` : ''}. ` +
      'Create a connect session with its account_id to let the end user connect it again.',
    { status_reasons: row.status_reasons },
  );
}

function retryLater(row: Pick<LinkedAccountRow, 'provider' | 'refresh_retry_at'>, cause?: DomainError) {
  const seconds = Math.max(
    1,
    Math.ceil(((row.refresh_retry_at?.getTime() ?? Date.now()) - Date.now()) / 1000),
  );
  return new DomainError(
    'unavailable',
    `${row.provider} could not refresh this account's token${cause ? ` (${cause.message})` : ''}; ` +
      `it is tried again in ${seconds} s.`,
    {
      retryAfterSeconds: seconds,
      ...(cause?.details.provider_response !== undefined
        ? { provider_response: cause.details.provider_response }
        : {}),
    },
  );
}

/**
 * Returns the account's credentials, refreshing OAuth tokens first when they are about to expire
 * (or at once with `force`, the "refresh now" of the API and console).
 *
 * Safe across processes: the refresh runs under the account's lock (withAccountLock), and the
 * row is re-read and judged again after the lock is taken, so a process that waited behind another's
 * refresh (or failure) does not call the provider again. An invalid_grant is checked against the stored
 * refresh token: if it changed meanwhile, another refresh rotated it and its result is used.
 *
 * Only a definite refusal (invalid_grant, a revoked client) marks the account expired (409 from then
 * on, until a backoff retry succeeds or the account is reconnected); outages and timeouts keep it
 * active and are retried with backoff, handing out the stored token while it still works (else 503).
 */
export interface RefreshOptions {
  force?: boolean;
  /** Told when the token endpoint was called: what it answered (the background worker's metrics and backoff). */
  observe?: (outcome: { refreshed: true } | { refreshed: false; failure: DomainError }) => void;
}

export async function freshCredentials(
  deps: RefreshDeps,
  row: LinkedAccountRow,
  options: RefreshOptions = {},
): Promise<Record<string, unknown>> {
  const aad = accountAad(row.project_id, row.id);
  const read = (enc: string | null) =>
    enc ? deps.vault.decryptJson<Record<string, unknown>>(enc, aad) : Promise.resolve({});
  const first = refreshDecision(row, options.force);
  if (first === 'use') return read(row.credentials_enc);
  if (first === 'reconnect') throw needsReconnect(row);
  if (first === 'wait') throw retryLater(row);
  // Resolved before taking the lock: PGlite has one connection, which the transaction will hold.
  const endpoint = await tokenEndpointFor(deps, row, await read(row.credentials_enc));

  const outcome = await withAccountLock(
    deps.db,
    row.id,
    async ({ row: locked, atomically }): Promise<Outcome> => {
      if (!locked) throw new DomainError('not_found', `Account ${row.id} was deleted.`);
      // decryptSync: no key-ring lookup may run inside the transaction (PGlite has one connection).
      const current = (
        locked.credentials_enc ? JSON.parse(deps.vault.decryptSync(locked.credentials_enc, aad)) : {}
      ) as OAuthTokens;
      // Judged again under the lock: a concurrent refresh may have succeeded or failed meanwhile. A forced
      // refresh that waited behind another one takes that one's fresh result instead of calling again.
      const forceStill = options.force === true && locked.updated_at.getTime() === row.updated_at.getTime();
      const decision = refreshDecision(locked, forceStill);
      if (decision === 'use') return { kind: 'use', credentials: current };
      if (decision === 'reconnect') return { kind: 'reconnect', row: locked };
      if (decision === 'wait') return { kind: 'wait', row: locked };
      try {
        // Client-credentials tokens are simply requested again; others use their refresh token.
        const next =
          endpoint.method.grant_type === 'client_credentials'
            ? { ...current, ...(await clientCredentialsTokens(endpoint, endpoint.scopes)) }
            : await refreshTokens(endpoint, current);
        const encrypted = deps.vault.encryptJson(next, aad);
        await atomically(async (tx) => {
          const refreshed = await tx
            .updateTable('linked_accounts')
            .set({
              credentials_enc: encrypted.ciphertext,
              key_version: encrypted.keyVersion,
              token_expires_at: next.expires_at ? new Date(next.expires_at) : null,
              refresh_failures: 0,
              refresh_retry_at: null,
              status: 'active',
              status_reasons: null,
              updated_at: sql<Date>`now()` as never,
            })
            .where('id', '=', row.id)
            .returningAll()
            .executeTakeFirstOrThrow();
          if (locked.status === 'expired')
            await recordAccountEvent(tx, 'account.refresh_recovered', refreshed);
        });
        return { kind: 'use', credentials: next, refreshed: true };
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        return { kind: 'failed', failure: err, previous: locked, usedRefreshToken: current.refresh_token };
      }
    },
  );
  // Whatever happened under the lock, no process may keep serving what it cached before.
  cachesOf(deps.db)?.accounts.delete(row.id);
  if (outcome.kind === 'use') {
    if (outcome.refreshed) options.observe?.({ refreshed: true });
    return outcome.credentials as unknown as Record<string, unknown>;
  }
  if (outcome.kind === 'failed') options.observe?.({ refreshed: false, failure: outcome.failure });
  if (outcome.kind === 'reconnect') throw needsReconnect(outcome.row);
  if (outcome.kind === 'wait') throw retryLater(outcome.row);
  return handleFailure(deps, outcome.failure, outcome.previous, outcome.usedRefreshToken, read);
}

type Outcome =
  | { kind: 'use'; credentials: OAuthTokens; refreshed?: boolean }
  | { kind: 'reconnect'; row: LinkedAccountRow }
  | { kind: 'wait'; row: LinkedAccountRow }
  | { kind: 'failed'; failure: DomainError; previous: LinkedAccountRow; usedRefreshToken?: string };

/** A refusal that retrying will not change; everything else (outages, timeouts, 5xx) is transient. */
function isDefiniteRefusal(failure: DomainError): boolean {
  if (failure instanceof ProviderOAuthError) return failure.definiteRefusal;
  // No refresh token, no client, an auth config that is gone: nothing a retry could fix.
  return failure.code === 'unprocessable';
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
  if (!latest) throw failure;
  const stored = (await read(latest.credentials_enc)) as { refresh_token?: string };
  if (
    failure instanceof ProviderOAuthError &&
    stored.refresh_token &&
    stored.refresh_token !== usedRefreshToken
  ) {
    return stored;
  }
  const definite = isDefiniteRefusal(failure);
  const failures = latest.refresh_failures + 1;
  const retryAt = new Date(Date.now() + refreshRetryDelayMs(failures));
  const updated = await deps.db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable('linked_accounts')
      .set({
        refresh_failures: failures,
        refresh_retry_at: retryAt,
        ...(definite
          ? {
              status: 'expired',
              status_reasons: JSON.stringify([
                { code: 'refresh_failed', description: failure.message, timestamp: new Date().toISOString() },
              ]),
            }
          : {}),
        updated_at: sql<Date>`now()` as never,
      })
      .where('id', '=', previous.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    // The event marks the moment the account stops working, not every failed try after it.
    if (definite && latest.status !== 'expired') await recordAccountEvent(tx, 'account.refresh_failed', row);
    return row;
  });
  cachesOf(deps.db)?.accounts.delete(previous.id);
  if (definite) throw needsReconnect(updated);
  // A transient failure inside the refresh margin: the stored token still works for a while.
  if (tokenStillValid(updated)) return read(updated.credentials_enc);
  throw retryLater(updated, failure);
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
    outbound: deps.outbound,
  };
}
