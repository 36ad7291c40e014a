import { sql } from 'kysely';
import type { AuthMethod } from '../connectors/auth-schema.ts';
import type { Catalogue } from '../connectors/catalogue.ts';
import type { Connector } from '../connectors/schema.ts';
import { fillTemplate } from '../connectors/templates.ts';
import { generateId } from '../crypto/tokens.ts';
import { accountAad, type Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import type { ConnectSessionRow, IntegrationRow, LinkedAccountRow } from '../db/schema.ts';
import { DomainError, notFound, validationFailed } from '../errors.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import type { HubAccountCreate } from '../schemas/hub.ts';
import { recordAccountEvent } from '../webhooks/events.ts';
import { recordFailedAttempt, recordSucceededAttempt } from './connection-attempts.ts';
import { checkCredentials } from './credential-check.ts';
import { allowedIntegration, existingAccountFor } from './hub-connectors.ts';
import { maskSecret, type SplitValues, validateFormValues } from './hub-form.ts';
import { authMethodOf, type EffectiveUrls, effectiveUrls } from './integrations.ts';
import { clientCredentialsTokens } from './oauth-client.ts';

export interface HubAccountDeps {
  db: Db;
  vault: Vault;
  catalogue: Catalogue;
  publicUrl: string;
  outbound: OutboundClient;
}

/**
 * POST /hub/accounts: validate the form, check the credentials with the provider, then create the
 * linked account — or update the one this session re-connects — in one transaction.
 */
export async function connectAccount(
  deps: HubAccountDeps,
  session: ConnectSessionRow,
  input: HubAccountCreate,
) {
  const { row: integration, connector } = await allowedIntegration(deps, session, input.integration_id);
  const method = authMethodOf(connector, integration.auth_method);
  if (method.type === 'oauth2' && method.grant_type === 'authorization_code') {
    throw validationFailed(
      `${connector.name} connects through OAuth: open /connect/oauth2/${integration.id} instead.`,
    );
  }
  const existing = await existingAccountFor(deps.db, session);
  if (session.account_id && !existing) throw notFound(`Account ${session.account_id} to re-connect`);
  if (existing && existing.provider !== connector.key) {
    throw validationFailed(
      `This session re-connects a ${existing.provider} account; pick that provider, or create a session without account_id.`,
    );
  }
  const stored = existing ? await storedValues(deps.vault, existing) : undefined;
  const values: AccountValues = validateFormValues(method.fields, input.credentials, stored);
  const urls = effectiveUrls(connector, integration);
  // From here on the provider is involved: a refusal or an outage is a failed connection attempt.
  const target = { integrationId: integration.id, provider: connector.key };
  await recordingFailure(deps.db, session, target, () =>
    verifyWithProvider(deps, connector, method, urls, values, integration.oauth_scopes),
  );
  const account = await saveAccount(deps, session, integration, connector, values);
  // Successes are attempts too, so an end customer's history shows how each try ended.
  await recordSucceededAttempt(deps.db, session, target, account.id);
  return { id: account.id, provider: account.provider };
}

/**
 * Runs `work`; a domain error it throws (the provider refused, could not be reached) is recorded as a
 * failed attempt with its reason, then passed on to the caller unchanged.
 */
async function recordingFailure(
  db: Db,
  session: ConnectSessionRow,
  target: { integrationId: string; provider: string },
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof DomainError) {
      await recordFailedAttempt(db, session, target, { code: err.code, description: err.message });
    }
    throw err;
  }
}

/** Client-credentials methods first buy a token with the user's own client; then the connector's check. */
async function verifyWithProvider(
  deps: HubAccountDeps,
  connector: Connector,
  method: AuthMethod,
  urls: EffectiveUrls,
  values: AccountValues,
  scopes: string[] | null,
): Promise<void> {
  if (method.type === 'oauth2') {
    const tokens = await clientCredentialsTokens(
      {
        method,
        tokenUrl: fillTemplate(urls.token_url!, values.settings, { encode: true }),
        clientId: values.settings.client_id ?? values.secrets.client_id ?? '',
        clientSecret: values.secrets.client_secret ?? '',
        outbound: deps.outbound,
      },
      scopes ?? method.scopes,
    );
    values.secrets = { ...values.secrets, ...tokens };
    values.tokenExpiresAt = tokens.expires_at ? new Date(tokens.expires_at) : null;
  }
  await checkCredentials(connector, method, urls, { ...values.settings, ...values.secrets }, deps.outbound);
}

export interface AccountValues extends SplitValues {
  /** When the stored access token expires (OAuth), so it is refreshed in time. */
  tokenExpiresAt?: Date | null;
}

/**
 * Creates the session's linked account, or updates the one it re-connects (its account_id, or the
 * dedupe match), in one transaction that also records the account on the session and the webhook event.
 */
export async function saveAccount(
  deps: Pick<HubAccountDeps, 'db' | 'vault'>,
  session: ConnectSessionRow,
  integration: IntegrationRow,
  connector: Connector,
  values: AccountValues,
): Promise<LinkedAccountRow> {
  return deps.db.transaction().execute(async (tx) => {
    // Two tabs connecting the same owner and provider at once must not create two accounts.
    await sql`select pg_advisory_xact_lock(hashtext(${`${session.project_id}|${session.origin_owner_id}|${connector.key}`}))`.execute(
      tx,
    );
    const target = await existingAccountFor(tx, { ...session, provider: connector.key });
    const id = target?.id ?? generateId('acc_');
    const encrypted = deps.vault.encryptJson(values.secrets, accountAad(session.project_id, id));
    const common = {
      integration_id: integration.id,
      setup_information: JSON.stringify(values.settings),
      credentials_enc: encrypted.ciphertext,
      key_version: encrypted.keyVersion,
      token_expires_at: values.tokenExpiresAt ?? null,
      refresh_failures: 0,
      status: 'active',
      status_reasons: null,
    };
    let row: LinkedAccountRow;
    if (target) {
      row = await tx
        .updateTable('linked_accounts')
        .set({
          ...common,
          ...(session.label !== null ? { label: session.label } : {}),
          ...(session.metadata !== null ? { metadata: JSON.stringify(session.metadata) } : {}),
          type: session.type,
          updated_at: sql<Date>`now()` as never,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    } else {
      row = await tx
        .insertInto('linked_accounts')
        .values({
          id,
          organization_id: Number(session.organization_id),
          project_id: session.project_id,
          provider: connector.key,
          origin_owner_id: session.origin_owner_id,
          origin_owner_name: session.origin_owner_name,
          origin_username: session.origin_username,
          label: session.label,
          type: session.type,
          metadata: session.metadata === null ? null : JSON.stringify(session.metadata),
          ...common,
          updated_at: sql<Date>`now()` as never,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    }
    // This is also what routes provider events: POST /webhooks/inbound/{external_trigger_token} follows the
    // token's session to this account (services/inbound/provider-events.ts). The token is deliberately not
    // copied onto the account: sessions are kept as long as their project, so every trigger URL the end
    // user was shown for this account (first connect, each re-connect) keeps working, and one more column
    // would have to choose which single token survives a re-connect.
    await tx
      .updateTable('connect_sessions')
      .set({ account_id: id })
      .where('id', '=', session.id as never)
      .execute();
    await recordAccountEvent(tx, target ? 'account.updated' : 'account.created', row, session.webhook_url);
    return row;
  });
}

/** An account the session may see in the hub: the one it re-connects or produced, nothing else. */
async function sessionAccount(deps: HubAccountDeps, session: ConnectSessionRow, id: string) {
  const existing = await existingAccountFor(deps.db, session);
  if (!existing || existing.id !== id) throw notFound(`Account ${id}`);
  return existing;
}

async function storedValues(vault: Vault, row: LinkedAccountRow): Promise<SplitValues> {
  const secrets = row.credentials_enc
    ? await vault.decryptJson<Record<string, string>>(row.credentials_enc, accountAad(row.project_id, row.id))
    : {};
  return { secrets, settings: (row.setup_information ?? {}) as Record<string, string> };
}

/** GET /hub/accounts/{id}: camelCase for StackOne's hub, every secret masked. */
export async function hubAccount(deps: HubAccountDeps, session: ConnectSessionRow, id: string) {
  const row = await sessionAccount(deps, session, id);
  const stored = await storedValues(deps.vault, row);
  const integration = row.integration_id
    ? await deps.db
        .selectFrom('integrations')
        .selectAll()
        .where('id', '=', row.integration_id)
        .executeTakeFirst()
    : undefined;
  return {
    secureId: row.id,
    provider: row.provider,
    setupInformation: stored.settings,
    secrets: Object.fromEntries(Object.entries(stored.secrets).map(([k, v]) => [k, maskSecret(String(v))])),
    version: '1',
    authConfigKey: integration?.auth_method ?? '',
    environment: integration?.environment ?? 'production',
    integrationId: row.integration_id ?? '',
  };
}

/** PATCH /hub/accounts/{id}: same as a re-connect; omitted or masked secrets keep their stored values. */
export async function hubUpdateAccount(
  deps: HubAccountDeps,
  session: ConnectSessionRow,
  id: string,
  input: HubAccountCreate,
) {
  await sessionAccount(deps, session, id);
  return connectAccount(deps, { ...session, account_id: id }, input);
}
