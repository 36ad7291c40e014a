import { InvalidArgumentError } from 'commander';
import type { Config } from '../config.ts';
import { resolveMasterKey } from '../crypto/master-key.ts';
import { openVault } from '../crypto/vault.ts';
import { type DatabaseHandle, type Db, migrateToLatest, openDatabase } from '../db/database.ts';
import { DomainError } from '../errors.ts';
import { providerPolicy } from '../outbound/address-policy.ts';
import { loadConfiguredCatalogue } from '../sandbox/setup.ts';
import { listProjects, type ProjectContext, projectContext } from '../services/tenancy.ts';

/**
 * Runs fn against the database, always closing it (and releasing the PGlite lock) after. Migrations are
 * applied first unless `migrate: false` (the migrate command applies them itself, to report them).
 */
export async function withDatabase<T>(
  config: Config,
  purpose: string,
  fn: (handle: DatabaseHandle) => Promise<T>,
  options: { migrate?: boolean } = {},
): Promise<T> {
  const handle = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    purpose,
    poolSize: 2,
  });
  try {
    if (options.migrate !== false) await migrateToLatest(handle.db);
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

/** What the services need, for commands that act as a project (the same services the API uses). */
export async function serviceDeps(config: Config, db: Db) {
  return {
    db,
    vault: await openVault(db, resolveMasterKey(config).key),
    catalogue: loadConfiguredCatalogue(config),
    publicUrl: config.publicUrl,
    // Commands only check URLs against the policy; none calls a provider.
    outbound: { policy: providerPolicy(config.providerAllowedRanges) },
  };
}

/**
 * The project a command acts on: --project when given (an unknown id is an error), otherwise the only
 * project when there is exactly one (a fresh install has just the default project, so the commonest
 * case needs no id), otherwise an error that says which ids exist.
 */
export async function resolveProject(db: Db, projectId: string | undefined): Promise<ProjectContext> {
  if (projectId !== undefined) return projectContext(db, projectId);
  const projects = await listProjects(db);
  if (projects.length === 1) return projectContext(db, projects[0]!.project_id);
  if (projects.length === 0)
    throw new DomainError(
      'not_found',
      'There is no project yet: start the server once ("npm start" creates the default project) or run "plugboard projects create --name …".',
    );
  throw new DomainError(
    'validation_failed',
    `There are ${projects.length} projects; choose one with --project (${projects
      .slice(0, 5)
      .map((p) => p.project_id)
      .join(', ')}${projects.length > 5 ? ', …' : ''}; "plugboard projects list" shows them all).`,
  );
}

export const PROJECT_OPTION = [
  '--project <project_id>',
  'project id (may be left out when there is only one project)',
] as const;

export function print(value: unknown, json: boolean, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

export const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};
