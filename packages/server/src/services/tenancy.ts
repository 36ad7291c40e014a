import { sql } from 'kysely';
import { cachesOf } from '../cache/data-caches.ts';
import { generateId, generateSecret, hashSecret, TOKEN_PREFIX } from '../crypto/tokens.ts';
import type { Db, Tx } from '../db/database.ts';
import { DomainError, notFound, validationFailed } from '../errors.ts';
import { recordAudit } from './audit.ts';

/** The project an API key belongs to: what every platform request runs as. */
export interface ProjectContext {
  organizationId: number;
  projectId: string;
  apiKeyId: string;
  /** Who acts, for the audit log; the API key (or 'cli') when absent. */
  actor?: Actor;
}

export interface Actor {
  type: 'api_key' | 'operator' | 'cli';
  /** The API key id, the operator's email, or 'cli'. */
  id: string;
}

export interface CreatedProject {
  organization_id: number;
  project_id: string;
  api_key: string;
}

export interface ApiKeyInfo {
  id: string;
  project_id: string;
  name: string | null;
  hint: string;
  created_at: string;
  revoked_at: string | null;
}

/** Creates an organization (unless given one), a project in it, and the project's first API key. */
export async function createProject(
  db: Db,
  input: { name: string; organizationId?: number; apiKey?: string; actor?: Actor },
): Promise<CreatedProject> {
  const name = input.name.trim();
  if (!name) throw validationFailed('A project needs a non-empty name.');
  return db.transaction().execute(async (tx) => {
    const created = await insertProject(tx, name, input.organizationId, input.apiKey);
    await recordAudit(tx, created.project_id, input.actor ?? CLI, {
      action: 'project.created',
      targetType: 'project',
      targetId: created.project_id,
      after: { name, organization_id: created.organization_id },
    });
    return created;
  });
}

const CLI: Actor = { type: 'cli', id: 'cli' };

async function insertProject(
  tx: Tx,
  name: string,
  existingOrganizationId: number | undefined,
  apiKey: string | undefined,
): Promise<CreatedProject> {
  let organizationId = existingOrganizationId;
  if (organizationId === undefined) {
    const org = await tx
      .insertInto('organizations')
      .values({ name })
      .returning('id')
      .executeTakeFirstOrThrow();
    organizationId = Number(org.id);
  } else {
    const org = await tx
      .selectFrom('organizations')
      .select('id')
      .where('id', '=', organizationId as never)
      .executeTakeFirst();
    if (!org) throw notFound(`Organization ${organizationId}`);
  }
  const projectId = generateId('proj_');
  await tx.insertInto('projects').values({ id: projectId, organization_id: organizationId, name }).execute();
  const { key } = await insertApiKey(tx, projectId, 'default', apiKey);
  return { organization_id: organizationId, project_id: projectId, api_key: key };
}

export async function createApiKey(
  db: Db,
  projectId: string,
  name: string | null,
  actor: Actor = CLI,
): Promise<{ key: string; info: ApiKeyInfo }> {
  return db.transaction().execute(async (tx) => {
    const project = await tx
      .selectFrom('projects')
      .select('id')
      .where('id', '=', projectId)
      .executeTakeFirst();
    if (!project) throw notFound(`Project ${projectId}`);
    const created = await insertApiKey(tx, projectId, name);
    await recordAudit(tx, projectId, actor, {
      action: 'api_key.created',
      targetType: 'api_key',
      targetId: created.info.id,
      after: created.info,
    });
    return created;
  });
}

async function insertApiKey(
  tx: Tx,
  projectId: string,
  name: string | null,
  chosenKey?: string,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const key = chosenKey ?? generateSecret(TOKEN_PREFIX.apiKey);
  const row = await tx
    .insertInto('api_keys')
    .values({
      id: generateId('key_'),
      project_id: projectId,
      key_hash: hashSecret(key),
      key_hint: `${key.slice(0, 8)}…`,
      name,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { key, info: toApiKeyInfo(row) };
}

export async function listApiKeys(db: Db, projectId: string): Promise<ApiKeyInfo[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toApiKeyInfo);
}

/**
 * Revokes a key at once: the next request made with it gets 401. Revoking twice is harmless. With a
 * project id, only a key of that project is found.
 */
export async function revokeApiKey(
  db: Db,
  keyId: string,
  scope: { projectId?: string; actor?: Actor } = {},
): Promise<ApiKeyInfo> {
  return db.transaction().execute(async (tx) => {
    let query = tx.selectFrom('api_keys').selectAll().where('id', '=', keyId);
    if (scope.projectId) query = query.where('project_id', '=', scope.projectId);
    const before = await query.forUpdate().executeTakeFirst();
    if (!before) throw notFound(`API key ${keyId}`);
    const row = await tx
      .updateTable('api_keys')
      .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` as never })
      .where('id', '=', keyId)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (!before.revoked_at)
      await recordAudit(tx, row.project_id, scope.actor ?? CLI, {
        action: 'api_key.revoked',
        targetType: 'api_key',
        targetId: keyId,
        before: toApiKeyInfo(before),
        after: toApiKeyInfo(row),
      });
    // At once in this process; other processes hear of it through the table's notice.
    cachesOf(db)?.apiKeys.delete(row.key_hash);
    return toApiKeyInfo(row);
  });
}

export async function listProjects(db: Db) {
  const rows = await db
    .selectFrom('projects')
    .select(['id', 'organization_id', 'name', 'created_at'])
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    project_id: r.id,
    organization_id: Number(r.organization_id),
    name: r.name,
    created_at: r.created_at.toISOString(),
  }));
}

/** A project as the services see it, for operator tools (the CLI) that act without an API key. */
export async function projectContext(db: Db, projectId: string): Promise<ProjectContext> {
  const row = await db
    .selectFrom('projects')
    .select(['id', 'organization_id'])
    .where('id', '=', projectId)
    .executeTakeFirst();
  if (!row)
    throw new DomainError(
      'not_found',
      `Project ${projectId} does not exist ("plugboard projects list" shows them).`,
    );
  return { organizationId: Number(row.organization_id), projectId: row.id, apiKeyId: 'cli' };
}

/** Resolves an API key to its project; undefined for unknown or revoked keys. */
export function findProjectByApiKey(db: Db, key: string): Promise<ProjectContext | undefined> {
  return findProjectByKeyHash(db, hashSecret(key));
}

/** findProjectByApiKey for a key already hashed. */
export async function findProjectByKeyHash(db: Db, keyHash: string): Promise<ProjectContext | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('projects', 'projects.id', 'api_keys.project_id')
    .select(['api_keys.id as key_id', 'projects.id as project_id', 'projects.organization_id'])
    .where('api_keys.key_hash', '=', keyHash)
    .where('api_keys.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  return { organizationId: Number(row.organization_id), projectId: row.project_id, apiKeyId: row.key_id };
}

/**
 * First start on an empty database: create a default organization, project and key. Serialized with
 * an advisory lock so two processes starting together on one PostgreSQL create it once.
 * Returns the new key (to print once), or undefined when the database already had projects.
 */
export async function bootstrapDefaultProject(
  db: Db,
  chosenKey: string | undefined,
  /** Runs in the same transaction, e.g. to enable the sandbox connectors in the new project. */
  setUp?: (tx: Tx, projectId: string) => Promise<void>,
): Promise<CreatedProject | undefined> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext('plugboard.bootstrap'))`.execute(tx);
    const existing = await tx.selectFrom('projects').select('id').limit(1).executeTakeFirst();
    if (existing) return undefined;
    const created = await insertProject(tx, 'Default', undefined, chosenKey);
    await setUp?.(tx, created.project_id);
    return created;
  });
}

function toApiKeyInfo(row: {
  id: string;
  project_id: string;
  name: string | null;
  key_hint: string;
  created_at: Date;
  revoked_at: Date | null;
}): ApiKeyInfo {
  return {
    id: row.id,
    project_id: row.project_id,
    name: row.name,
    hint: row.key_hint,
    created_at: row.created_at.toISOString(),
    revoked_at: row.revoked_at ? row.revoked_at.toISOString() : null,
  };
}
