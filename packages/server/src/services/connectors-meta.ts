import type { Connector } from '../connectors/schema.ts';
import type { Db } from '../db/database.ts';
import { logoUrl } from './integrations.ts';

/** Connector keys that have at least one active integration in the project. */
export async function projectActiveConnectors(db: Db, projectId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('integrations')
    .select('connector_key')
    .distinct()
    .where('project_id', '=', projectId)
    .where('active', '=', true)
    .execute();
  return new Set(rows.map((r) => r.connector_key));
}

/** ConnectorsMeta as StackOne returns it; `models` stays empty (Plugboard has no unified models). */
export function connectorMeta(connector: Connector, active: Set<string>, publicUrl: string) {
  return {
    provider: connector.key,
    provider_name: connector.name,
    category: connector.categories[0]!,
    models: {},
    active: active.has(connector.key),
    resources: { images: { logo_url: logoUrl(publicUrl, connector.key) } },
  };
}
