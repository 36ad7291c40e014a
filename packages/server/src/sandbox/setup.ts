import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Config } from '../config.ts';
import { type Catalogue, loadCatalogue } from '../connectors/catalogue.ts';
import type { Tx } from '../db/database.ts';
import { isSandboxConnector, SANDBOX_CONNECTOR_KEYS } from './constants.ts';

/** The connector catalogue as configured: PLUGBOARD_SANDBOX=false leaves the sandbox connectors out. */
export function loadConfiguredCatalogue(config: Pick<Config, 'sandbox'>): Catalogue {
  const all = loadCatalogue();
  return config.sandbox ? all : withoutSandbox(all);
}

/** The catalogue with the sandbox connectors left out. */
export function withoutSandbox(catalogue: Catalogue): Catalogue {
  const kept = catalogue.list().filter((c) => !isSandboxConnector(c.key));
  return {
    list: () => [...kept],
    get: (key) => (isSandboxConnector(key) ? undefined : catalogue.get(key)),
  };
}

/**
 * Enables both sandbox connectors in a project (the default project, on first start), so a new
 * user's first connect session has something to connect. Neither needs a secret of the project's.
 */
export async function enableSandbox(tx: Tx, projectId: string, catalogue: Catalogue): Promise<void> {
  const rows = SANDBOX_CONNECTOR_KEYS.flatMap((key) => {
    const connector = catalogue.get(key);
    if (!connector) return [];
    return [
      {
        id: randomUUID(),
        project_id: projectId,
        connector_key: key,
        name: connector.name,
        auth_method: connector.auth[0]!.key,
        active: true,
        is_default: true,
        environment: 'production',
        updated_at: sql<Date>`now()` as never,
      },
    ];
  });
  if (rows.length) await tx.insertInto('integrations').values(rows).execute();
}
