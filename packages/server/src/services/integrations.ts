import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AuthMethod } from '../connectors/auth-schema.ts';
import type { Catalogue } from '../connectors/catalogue.ts';
import type { Connector } from '../connectors/schema.ts';
import { integrationAad, type Vault } from '../crypto/vault.ts';
import type { Db, Tx } from '../db/database.ts';
import type { IntegrationRow } from '../db/schema.ts';
import { conflict, notFound, validationFailed } from '../errors.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import { builtInOAuthClient } from '../sandbox/constants.ts';
import type {
  AuthConfig,
  AuthConfigCreate,
  AuthConfigListQuery,
  AuthConfigUpdate,
} from '../schemas/auth-configs.ts';
import { audit } from './audit.ts';
import type { ProjectContext } from './tenancy.ts';
import { checkUrlOverrides } from './url-overrides.ts';

/** The URLs an integration actually uses: the connector's, with the integration's overrides on top. */
export interface EffectiveUrls {
  api_base_url: string;
  authorization_url?: string;
  token_url?: string;
}

export interface IntegrationDeps {
  db: Db;
  vault: Vault;
  catalogue: Catalogue;
  publicUrl: string;
  /** Whose address policy URL overrides are checked against when they are set. */
  outbound: Pick<OutboundClient, 'policy'>;
}

export function logoUrl(publicUrl: string, connectorKey: string): string {
  return `${publicUrl}/connectors/logos/${encodeURIComponent(connectorKey)}.svg`;
}

export function connectorOrFail(catalogue: Catalogue, key: string): Connector {
  const connector = catalogue.get(key);
  if (!connector) {
    throw validationFailed(
      `Unknown connector "${key}". GET /connectors/meta lists the available connectors.`,
    );
  }
  return connector;
}

export function authMethodOf(connector: Connector, key: string | undefined): AuthMethod {
  const method = key === undefined ? connector.auth[0] : connector.auth.find((m) => m.key === key);
  if (!method) {
    const known = connector.auth.map((m) => m.key).join(', ');
    throw validationFailed(`Connector "${connector.key}" has no auth method "${key}". Use one of: ${known}.`);
  }
  return method;
}

export function effectiveUrls(
  connector: Connector,
  row: Pick<IntegrationRow, 'urls' | 'auth_method'>,
): EffectiveUrls {
  const method = connector.auth.find((m) => m.key === row.auth_method);
  const overrides = row.urls ?? {};
  return {
    api_base_url: overrides.api_base_url ?? connector.api_base_url,
    authorization_url:
      overrides.authorization_url ?? (method?.type === 'oauth2' ? method.authorization_url : undefined),
    token_url: overrides.token_url ?? (method?.type === 'oauth2' ? method.token_url : undefined),
  };
}

/**
 * OAuth authorization-code integrations cannot work without the project's own OAuth client, unless
 * the connector has one built in (the sandbox).
 */
function requireOAuthClient(connector: Connector, method: AuthMethod, hasClient: boolean): void {
  if (hasClient || builtInOAuthClient(connector.key)) return;
  if (method.type === 'oauth2' && method.grant_type === 'authorization_code') {
    throw validationFailed(
      `Auth method "${method.key}" is OAuth2: pass oauth: { client_id, client_secret } from your app registered with the provider.`,
    );
  }
}

export async function createIntegration(
  deps: IntegrationDeps,
  project: ProjectContext,
  input: AuthConfigCreate,
): Promise<AuthConfig> {
  const connector = connectorOrFail(deps.catalogue, input.connector_key);
  const method = authMethodOf(connector, input.authentication_config_key);
  requireOAuthClient(connector, method, input.oauth !== undefined);
  await checkUrlOverrides(connector, method, input.urls, deps.outbound.policy);
  const id = randomUUID();
  const secret = input.oauth
    ? deps.vault.encrypt(input.oauth.client_secret, integrationAad(project.projectId, id))
    : undefined;
  const row = await deps.db.transaction().execute(async (tx) => {
    if (input.default) await clearDefault(tx, project.projectId, connector.key);
    const created = await tx
      .insertInto('integrations')
      .values({
        id,
        project_id: project.projectId,
        connector_key: connector.key,
        name: input.name ?? connector.name,
        auth_method: method.key,
        active: input.enabled ?? true,
        is_default: input.default ?? false,
        environment: input.environment ?? 'production',
        oauth_client_id: input.oauth?.client_id ?? null,
        oauth_client_secret_enc: secret?.ciphertext ?? null,
        oauth_scopes: input.oauth?.scopes ? JSON.stringify(input.oauth.scopes) : null,
        urls: input.urls ? JSON.stringify(input.urls) : null,
        key_version: secret?.keyVersion ?? null,
        updated_at: sql<Date>`now()` as never,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, project, {
      action: 'integration.created',
      targetType: 'integration',
      targetId: id,
      after: toAuthConfig(created, connector, deps.publicUrl),
    });
    return created;
  });
  return toAuthConfig(row, connector, deps.publicUrl);
}

export async function updateIntegration(
  deps: IntegrationDeps,
  project: ProjectContext,
  id: string,
  input: AuthConfigUpdate,
): Promise<AuthConfig> {
  // URL checks may resolve names: done before the transaction, against the row as it is now.
  const before = await findIntegration(deps.db, project.projectId, id);
  if (!before) throw notFound(`Auth config ${id}`);
  const connector = connectorOrFail(deps.catalogue, before.connector_key);
  await checkUrlOverrides(
    connector,
    authMethodOf(connector, input.authentication_config_key ?? before.auth_method),
    input.urls === undefined ? before.urls : input.urls,
    deps.outbound.policy,
  );
  const row = await deps.db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom('integrations')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', project.projectId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw notFound(`Auth config ${id}`);
    const method = authMethodOf(connector, input.authentication_config_key ?? current.auth_method);
    requireOAuthClient(
      connector,
      method,
      input.oauth === undefined ? current.oauth_client_id !== null : input.oauth !== null,
    );
    if (input.default) await clearDefault(tx, project.projectId, connector.key);
    const secret = input.oauth
      ? deps.vault.encrypt(input.oauth.client_secret, integrationAad(project.projectId, id))
      : undefined;
    const updated = await tx
      .updateTable('integrations')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.enabled !== undefined ? { active: input.enabled } : {}),
        ...(input.default !== undefined ? { is_default: input.default } : {}),
        ...(input.environment !== undefined ? { environment: input.environment } : {}),
        auth_method: method.key,
        ...(input.oauth === null
          ? { oauth_client_id: null, oauth_client_secret_enc: null, oauth_scopes: null, key_version: null }
          : {}),
        ...(input.oauth && secret
          ? {
              oauth_client_id: input.oauth.client_id,
              oauth_client_secret_enc: secret.ciphertext,
              key_version: secret.keyVersion,
              oauth_scopes: input.oauth.scopes ? JSON.stringify(input.oauth.scopes) : null,
            }
          : {}),
        ...(input.urls !== undefined ? { urls: input.urls ? JSON.stringify(input.urls) : null } : {}),
        updated_at: sql<Date>`now()` as never,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, project, {
      action: 'integration.updated',
      targetType: 'integration',
      targetId: id,
      before: toAuthConfig(current, connector, deps.publicUrl),
      after: toAuthConfig(updated, connector, deps.publicUrl),
    });
    return updated;
  });
  return toAuthConfig(row, connectorOrFail(deps.catalogue, row.connector_key), deps.publicUrl);
}

/** Deleting an integration that linked accounts still use would orphan them: refuse with 409. */
export async function deleteIntegration(
  deps: IntegrationDeps,
  project: ProjectContext,
  id: string,
): Promise<AuthConfig> {
  const row = await deps.db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom('integrations')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', project.projectId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw notFound(`Auth config ${id}`);
    const { count } = await tx
      .selectFrom('linked_accounts')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('integration_id', '=', id)
      .executeTakeFirstOrThrow();
    if (Number(count) > 0) {
      throw conflict(
        `${count} linked account(s) use this auth config. Delete them first, or disable it with PATCH { "enabled": false }.`,
      );
    }
    await tx.deleteFrom('integrations').where('id', '=', id).execute();
    const connector = deps.catalogue.get(current.connector_key);
    await audit(tx, project, {
      action: 'integration.deleted',
      targetType: 'integration',
      targetId: id,
      before: connector
        ? toAuthConfig(current, connector, deps.publicUrl)
        : { connector_key: current.connector_key },
    });
    return current;
  });
  return toAuthConfig(row, connectorOrFail(deps.catalogue, row.connector_key), deps.publicUrl);
}

export async function getIntegration(
  deps: IntegrationDeps,
  project: ProjectContext,
  id: string,
): Promise<AuthConfig> {
  const row = await findIntegration(deps.db, project.projectId, id);
  if (!row) throw notFound(`Auth config ${id}`);
  return toAuthConfig(row, connectorOrFail(deps.catalogue, row.connector_key), deps.publicUrl);
}

export async function listIntegrations(
  deps: IntegrationDeps,
  project: ProjectContext,
  query: AuthConfigListQuery,
): Promise<{ data: AuthConfig[]; page: number; page_size: number; total: number }> {
  let base = deps.db.selectFrom('integrations').where('project_id', '=', project.projectId);
  if (query.connector_key) base = base.where('connector_key', '=', query.connector_key);
  if (query.enabled !== undefined) base = base.where('active', '=', query.enabled);
  const [rows, total] = await Promise.all([
    base
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .limit(query.page_size)
      .offset((query.page - 1) * query.page_size)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return {
    data: rows.flatMap((row) => {
      const connector = deps.catalogue.get(row.connector_key);
      return connector ? [toAuthConfig(row, connector, deps.publicUrl)] : [];
    }),
    page: query.page,
    page_size: query.page_size,
    total: Number(total.count),
  };
}

export async function findIntegration(
  db: Db | Tx,
  projectId: string,
  id: string,
): Promise<IntegrationRow | undefined> {
  return db
    .selectFrom('integrations')
    .selectAll()
    .where('id', '=', id)
    .where('project_id', '=', projectId)
    .executeTakeFirst();
}

/**
 * The project an integration belongs to, for operator tools that name an integration by id alone;
 * undefined for an unknown id (or one that is not a UUID, which no integration has).
 */
export async function projectOfIntegration(db: Db, id: string): Promise<string | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const row = await db
    .selectFrom('integrations')
    .select('project_id')
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.project_id;
}

/** The decrypted OAuth client of an integration (for the OAuth flows), else the connector's built-in one. */
export async function oauthClientOf(
  vault: Vault,
  row: IntegrationRow,
): Promise<{ client_id: string; client_secret: string } | undefined> {
  if (!row.oauth_client_id || !row.oauth_client_secret_enc) return builtInOAuthClient(row.connector_key);
  const secret = await vault.decrypt(row.oauth_client_secret_enc, integrationAad(row.project_id, row.id));
  return { client_id: row.oauth_client_id, client_secret: secret };
}

async function clearDefault(tx: Tx, projectId: string, connectorKey: string): Promise<void> {
  await tx
    .updateTable('integrations')
    .set({ is_default: false })
    .where('project_id', '=', projectId)
    .where('connector_key', '=', connectorKey)
    .where('is_default', '=', true)
    .execute();
}

export function toAuthConfig(row: IntegrationRow, connector: Connector, publicUrl: string): AuthConfig {
  return {
    id: row.id,
    name: row.name,
    active: row.active,
    default: row.is_default,
    connector_key: row.connector_key,
    connector_label: connector.name,
    categories: connector.categories,
    logo_url: logoUrl(publicUrl, connector.key),
    release_stage: connector.release_stage,
    authentication_config_key: row.auth_method,
    environment: row.environment,
    connector_version: '1',
    oauth_client_id: row.oauth_client_id,
    oauth_scopes: row.oauth_scopes,
    urls: row.urls ?? {},
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
