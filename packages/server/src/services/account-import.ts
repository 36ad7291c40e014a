import { sql } from 'kysely';
import type { Catalogue } from '../connectors/catalogue.ts';
import { generateId } from '../crypto/tokens.ts';
import { accountAad, type Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import type { LinkedAccountRow } from '../db/schema.ts';
import { notFound, validationFailed } from '../errors.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import type { AccountImport, LinkedAccount } from '../schemas/accounts.ts';
import { recordAccountEvent } from '../webhooks/events.ts';
import { toLinkedAccount } from './accounts.ts';
import { checkCredentials } from './credential-check.ts';
import { validateFormValues } from './hub-form.ts';
import { authMethodOf, effectiveUrls, findIntegration } from './integrations.ts';
import type { OAuthTokens } from './oauth-client.ts';
import type { ProjectContext } from './tenancy.ts';

export interface ImportDeps {
  db: Db;
  vault: Vault;
  catalogue: Catalogue;
  outbound: OutboundClient;
}

/**
 * Creates a linked account from credentials it already has. The values are validated like the hub's
 * form for the auth config's method; the provider is only asked when `check` is set. With an
 * external_id the import is idempotent: the same (project, auth config, owner, external_id) answers the account
 * made the first time (`created: false`), whatever the new input says.
 */
export async function importAccount(
  deps: ImportDeps,
  project: ProjectContext,
  input: AccountImport,
): Promise<{ account: LinkedAccount; created: boolean }> {
  const integration = await findIntegration(deps.db, project.projectId, input.integration_id);
  if (!integration) throw notFound(`Auth config ${input.integration_id}`);
  const connector = deps.catalogue.get(integration.connector_key);
  if (!connector) {
    throw validationFailed(
      `The connector "${integration.connector_key}" of this auth config is no longer known.`,
    );
  }
  if (input.external_id !== undefined) {
    const existing = await byExternalId(deps.db, integration, input.origin_owner_id, input.external_id);
    if (existing) return { account: toLinkedAccount(existing, deps.catalogue), created: false };
  }
  const method = authMethodOf(connector, integration.auth_method);
  const values = validateFormValues(method.fields, input.credentials);
  let secrets: Record<string, unknown> = values.secrets;
  let tokenExpiresAt: Date | null = null;
  if (method.type === 'oauth2') {
    if (method.grant_type !== 'client_credentials' && !input.oauth) {
      throw validationFailed(
        `${connector.name} connects through OAuth: give the account's tokens in oauth.access_token (and oauth.refresh_token).`,
      );
    }
    if (input.oauth) {
      const tokens = oauthTokens(input.oauth, method.scope_separator ?? ' ');
      secrets = { ...secrets, ...tokens };
      tokenExpiresAt = tokens.expires_at ? new Date(tokens.expires_at) : null;
    }
  } else if (input.oauth) {
    throw validationFailed(
      `oauth: ${connector.name} (${method.type}) does not use OAuth tokens; give its fields in credentials.`,
    );
  }
  if (input.check) {
    await checkCredentials(
      connector,
      method,
      effectiveUrls(connector, integration),
      { ...values.settings, ...secrets } as Record<string, string>,
      deps.outbound,
    );
  }

  const id = generateId('acc_');
  const encrypted = deps.vault.encryptJson(secrets, accountAad(project.projectId, id));
  const row = await deps.db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('linked_accounts')
      .values({
        id,
        organization_id: project.organizationId,
        project_id: project.projectId,
        integration_id: integration.id,
        provider: connector.key,
        origin_owner_id: input.origin_owner_id,
        origin_owner_name: input.origin_owner_name,
        origin_username: input.origin_username ?? null,
        label: input.label ?? null,
        type: input.type ?? (integration.environment === 'test' ? 'test' : 'production'),
        metadata: input.metadata ? JSON.stringify(input.metadata) : null,
        setup_information: JSON.stringify(values.settings),
        credentials_enc: encrypted.ciphertext,
        key_version: encrypted.keyVersion,
        token_expires_at: tokenExpiresAt,
        external_id: input.external_id ?? null,
        status: 'active',
        updated_at: sql<Date>`now()` as never,
      })
      // Two imports of one external id at once: the second finds the first's row afterwards.
      .onConflict((oc) =>
        oc
          .columns(['project_id', 'integration_id', 'origin_owner_id', 'external_id'])
          .where('external_id', 'is not', null)
          .doNothing(),
      )
      .returningAll()
      .executeTakeFirst();
    if (inserted) await recordAccountEvent(tx, 'account.created', inserted);
    return inserted;
  });
  if (row) return { account: toLinkedAccount(row, deps.catalogue), created: true };
  const existing = await byExternalId(deps.db, integration, input.origin_owner_id, input.external_id!);
  return { account: toLinkedAccount(existing!, deps.catalogue), created: false };
}

/** An id is only meaningful within the end customer it belongs to: another owner's same id is another account. */
function byExternalId(
  db: Db,
  integration: { project_id: string; id: string },
  ownerId: string,
  externalId: string,
): Promise<LinkedAccountRow | undefined> {
  return db
    .selectFrom('linked_accounts')
    .selectAll()
    .where('project_id', '=', integration.project_id)
    .where('integration_id', '=', integration.id)
    .where('origin_owner_id', '=', ownerId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
}

/** Stored like tokens from the OAuth flow, so refresh and the proxy treat both alike. */
function oauthTokens(input: NonNullable<AccountImport['oauth']>, separator: string): OAuthTokens {
  if (input.expires_at && input.expires_in) {
    throw validationFailed('oauth: give expires_at or expires_in, not both.');
  }
  const expiresAt = input.expires_at
    ? new Date(input.expires_at)
    : input.expires_in
      ? new Date(Date.now() + input.expires_in * 1000)
      : undefined;
  if (expiresAt && !input.refresh_token && expiresAt.getTime() <= Date.now()) {
    throw validationFailed(
      'oauth: the access token has expired and there is no refresh_token to get a new one with.',
    );
  }
  return {
    access_token: input.access_token,
    ...(input.refresh_token ? { refresh_token: input.refresh_token } : {}),
    token_type: input.token_type ?? 'Bearer',
    ...(input.scopes?.length ? { scope: input.scopes.join(separator) } : {}),
    ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
  };
}
