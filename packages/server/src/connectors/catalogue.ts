import fs from 'node:fs';
import path from 'node:path';
import { CONNECTORS_DIR } from '../install-paths.ts';
import { type Connector, connectorSchema } from './schema.ts';

/** connectors/ at the repository root (in an installed package, the copy its build shipped). */
export const DEFAULT_CONNECTORS_DIR = CONNECTORS_DIR;

/** A connector file is unreadable or breaks the schema. `problems` holds one "<path>: <problem>" line each. */
export class CatalogueError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `The connector catalogue has ${problems.length} problem${problems.length === 1 ? '' : 's'}; fix the files and restart:\n  ${problems.join('\n  ')}`,
    );
    this.name = 'CatalogueError';
  }
}

export interface Catalogue {
  /** Every connector, sorted by name. */
  list(): Connector[];
  get(key: string): Connector | undefined;
}

/**
 * Reads and validates every connectors/<key>.json once, synchronously, at start-up. Every problem in
 * every file is collected before throwing, so one run shows all that needs fixing.
 */
export function loadCatalogue(dir: string = DEFAULT_CONNECTORS_DIR): Catalogue {
  let files: string[];
  try {
    files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (err) {
    throw new CatalogueError([`${dir}: cannot read the connectors directory (${(err as Error).message})`]);
  }
  const problems: string[] = [];
  const byKey = new Map<string, Connector>();
  for (const file of files) {
    const full = path.join(dir, file);
    const result = loadFile(full);
    if ('problems' in result) {
      problems.push(...result.problems.map((p) => `${full}: ${p}`));
      continue;
    }
    const expectedKey = path.basename(file, '.json');
    if (result.connector.key !== expectedKey) {
      problems.push(`${full}: key: "${result.connector.key}" must equal the file name "${expectedKey}"`);
      continue;
    }
    byKey.set(expectedKey, deepFreeze(result.connector));
  }
  if (problems.length) throw new CatalogueError(problems);
  const sorted = Object.freeze(
    [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name, 'en') || a.key.localeCompare(b.key)),
  );
  return {
    list: () => [...sorted],
    get: (key) => byKey.get(key),
  };
}

function loadFile(full: string): { connector: Connector } | { problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(full, 'utf8'));
  } catch (err) {
    return { problems: [`not valid JSON (${(err as Error).message})`] };
  }
  const parsed = connectorSchema.safeParse(raw);
  if (parsed.success) return { connector: parsed.data };
  return {
    problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`),
  };
}

/** Connectors are shared by every request: freezing them turns an accidental mutation into an error. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
