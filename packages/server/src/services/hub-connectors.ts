import { type Field, isSecretField } from '../connectors/auth-schema.ts';
import type { Catalogue } from '../connectors/catalogue.ts';
import type { Connector } from '../connectors/schema.ts';
import type { Db } from '../db/database.ts';
import type { ConnectSessionRow, IntegrationRow } from '../db/schema.ts';
import { notFound } from '../errors.ts';
import type { HubField } from '../schemas/hub.ts';
import { findAccount } from './accounts.ts';
import { localizeConnector } from './connector-texts.ts';
import { authMethodOf, logoUrl } from './integrations.ts';

export interface HubDeps {
  db: Db;
  catalogue: Catalogue;
  publicUrl: string;
}

/**
 * The integrations a session may use: the project's active ones, narrowed by the session's
 * integration_id, provider and categories; one per connector (the session's pick, else the project's
 * default, else the oldest) so provider@version stays unique in the hub's list.
 */
export async function allowedIntegrations(
  deps: HubDeps,
  session: ConnectSessionRow,
): Promise<Array<{ row: IntegrationRow; connector: Connector }>> {
  let q = deps.db
    .selectFrom('integrations')
    .selectAll()
    .where('project_id', '=', session.project_id)
    .where('active', '=', true);
  if (session.integration_id) q = q.where('id', '=', session.integration_id);
  if (session.provider) q = q.where('connector_key', '=', session.provider);
  const rows = await q.orderBy('is_default', 'desc').orderBy('created_at').orderBy('id').execute();
  const categories = session.categories;
  const byConnector = new Map<string, { row: IntegrationRow; connector: Connector }>();
  for (const row of rows) {
    const connector = deps.catalogue.get(row.connector_key);
    if (!connector || byConnector.has(connector.key)) continue;
    if (categories?.length && !connector.categories.some((c) => categories.includes(c))) continue;
    byConnector.set(connector.key, { row, connector });
  }
  return [...byConnector.values()].sort((a, b) => a.connector.name.localeCompare(b.connector.name));
}

export async function allowedIntegration(deps: HubDeps, session: ConnectSessionRow, integrationId: string) {
  const found = (await allowedIntegrations(deps, session)).find((i) => i.row.id === integrationId);
  // Integrations outside the session's limits look exactly like unknown ones.
  if (!found) throw notFound(`Integration ${integrationId}`);
  return found;
}

/**
 * The account a session edits instead of creating a new one: the session's account_id, or (unless
 * `multiple`) the newest account of the same owner and provider — the dedupe rule of DESIGN §2.
 */
export async function existingAccountFor(db: Db, session: ConnectSessionRow) {
  if (session.account_id) return findAccount(db, session.project_id, session.account_id);
  if (session.multiple || !session.provider) return undefined;
  return db
    .selectFrom('linked_accounts')
    .selectAll()
    .where('project_id', '=', session.project_id)
    .where('origin_owner_id', '=', session.origin_owner_id)
    .where('origin_owner_name', '=', session.origin_owner_name)
    .where('provider', '=', session.provider)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function hubSettings(deps: HubDeps, session: ConnectSessionRow) {
  const existing = await existingAccountFor(deps.db, session);
  return { enabled_features: [] as string[], ...(existing ? { existing_account_id: existing.id } : {}) };
}

/** `lang` picks the language of connector names (English when absent or not translated). */
export async function hubConnectorList(
  deps: HubDeps,
  session: ConnectSessionRow,
  query: { provider?: string; lang?: string },
) {
  const { provider, lang } = query;
  const integrations = (await allowedIntegrations(deps, session))
    .filter(({ connector }) => !provider || connector.key === provider)
    .map(({ row, connector }) => ({
      active: row.active,
      name: localizeConnector(connector, lang).name,
      provider: connector.key,
      // The category the session asked for when the connector has several, else its primary one.
      type: connector.categories.find((c) => session.categories?.includes(c)) ?? connector.categories[0]!,
      version: '1',
      authentication_config_key: row.auth_method,
      environment: row.environment,
      integration_id: row.id,
      logo_url: logoUrl(deps.publicUrl, connector.key),
    }));
  return { integrations, external_trigger_token: session.external_trigger_token };
}

/** The form in `lang` where the connector file translates it, English otherwise. */
export async function hubConnectorConfig(
  deps: HubDeps,
  session: ConnectSessionRow,
  integrationId: string,
  lang?: string,
) {
  const allowed = await allowedIntegration(deps, session, integrationId);
  const { row } = allowed;
  const connector = localizeConnector(allowed.connector, lang);
  const method = authMethodOf(connector, row.auth_method);
  return {
    config: {
      key: connector.key,
      name: connector.name,
      type: method.type,
      ...(method.type === 'oauth2' ? { grantType: method.grant_type } : {}),
      configFields: method.fields.map(toHubField),
      ...(connector.notices?.length ? { configNotices: connector.notices } : {}),
      assets: { icon: logoUrl(deps.publicUrl, connector.key) },
      support: connector.support ?? null,
    },
    hub_settings: {},
  };
}

export function toHubField(field: Field): HubField {
  return {
    key: field.key,
    label: field.label,
    type: field.type,
    required: field.required,
    readOnly: field.read_only ?? field.key === 'external-trigger-token',
    secret: isSecretField(field),
    placeholder: field.placeholder ?? '',
    ...(field.options ? { options: field.options } : {}),
    ...(field.description ? { description: field.description } : {}),
    ...(field.validation
      ? {
          validation: {
            type: 'html-pattern' as const,
            pattern: field.validation.pattern,
            error: field.validation.message,
          },
        }
      : {}),
  };
}
