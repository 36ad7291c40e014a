import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Connector, connectorSchema } from './schema.ts';

/** connectors/ at the repository root. */
export const DEFAULT_CONNECTORS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../connectors',
);

export class CatalogueError extends Error {}

export interface Catalogue {
  list(): Connector[];
  get(key: string): Connector | undefined;
}

/** Reads and validates every connector file once; a broken file stops start-up with its path and problems. */
export function loadCatalogue(dir: string = DEFAULT_CONNECTORS_DIR): Catalogue {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const problems: string[] = [];
  const byKey = new Map<string, Connector>();
  for (const file of files) {
    const full = path.join(dir, file);
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(full, 'utf8'));
    } catch (err) {
      problems.push(`${full}: not valid JSON (${(err as Error).message})`);
      continue;
    }
    const parsed = connectorSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(`${full}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      continue;
    }
    const expectedKey = path.basename(file, '.json');
    if (parsed.data.key !== expectedKey) {
      problems.push(`${full}: key "${parsed.data.key}" must equal the file name "${expectedKey}"`);
      continue;
    }
    byKey.set(parsed.data.key, parsed.data);
  }
  if (problems.length) throw new CatalogueError(`Invalid connector files:\n  ${problems.join('\n  ')}`);
  const sorted = [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { list: () => sorted, get: (key) => byKey.get(key) };
}
