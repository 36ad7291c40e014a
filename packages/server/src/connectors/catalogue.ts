import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
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
    const result = checkConnectorFile(full);
    if ('problems' in result) {
      problems.push(...result.problems.map((p) => `${full}: ${p}`));
      continue;
    }
    byKey.set(result.connector.key, deepFreeze(result.connector));
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

/**
 * Reads one connector file and checks it against the schema and its file name. Each problem is one
 * "<path in the file>: <what to fix>" line (what `plugboard connectors lint` prints).
 */
export function checkConnectorFile(full: string): { connector: Connector } | { problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(full, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ? 'cannot be read' : 'is not valid JSON';
    return { problems: [`(file): ${reason} (${(err as Error).message})`] };
  }
  const parsed = connectorSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((issue) => `${issuePath(issue.path)}: ${describeIssue(issue)}`),
    };
  }
  const expectedKey = path.basename(full, '.json');
  if (parsed.data.key !== expectedKey) {
    return {
      problems: [`key: "${parsed.data.key}" must equal the file name "${expectedKey}" (rename one of them)`],
    };
  }
  return { connector: parsed.data };
}

/** "auth.0.apply.headers.Authorization", or "(file)" for the top level. */
function issuePath(p: PropertyKey[]): string {
  return p.map(String).join('.') || '(file)';
}

/** zod's messages, reworded where they would not tell a connector author what to change. */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required: add it (${issue.expected})`;
      return `must be ${article(issue.expected)}, not ${describeValue(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or fix the spelling (docs/connectors.md lists every field)`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if (issue.discriminator && 'options' in issue && issue.options?.length) {
        return `must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
      }
      return issue.message;
    case 'too_small':
      if (issue.origin === 'array')
        return `needs at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return issue.message;
    default:
      return issue.message;
  }
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return article(typeof value);
}

/** Connectors are shared by every request: freezing them turns an accidental mutation into an error. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
