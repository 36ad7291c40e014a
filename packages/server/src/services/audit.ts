import type { Db, Tx } from '../db/database.ts';
import type { Actor, ProjectContext } from './tenancy.ts';

/**
 * The audit log: who changed what and when, with the record before and after. Services write it in
 * the transaction of the change, so an entry exists if and only if the change committed. Callers pass
 * the public representation of the record (what the API returns), which never holds a secret.
 */
export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string;
  before?: object | null;
  after?: object | null;
}

export function actorOf(project: Pick<ProjectContext, 'apiKeyId' | 'actor'>): Actor {
  if (project.actor) return project.actor;
  return project.apiKeyId === 'cli' ? { type: 'cli', id: 'cli' } : { type: 'api_key', id: project.apiKeyId };
}

export async function recordAudit(
  tx: Tx | Db,
  projectId: string | null,
  actor: Actor,
  entry: AuditEntry,
): Promise<void> {
  await recordAudits(tx, [{ projectId, actor, entry }]);
}

/** Several entries in one statement, for changes written together (group commit). */
export async function recordAudits(
  tx: Tx | Db,
  entries: { projectId: string | null; actor: Actor; entry: AuditEntry }[],
): Promise<void> {
  if (entries.length === 0) return;
  await tx
    .insertInto('audit_log')
    .values(
      entries.map(({ projectId, actor, entry }) => ({
        project_id: projectId,
        actor_type: actor.type,
        actor_id: actor.id,
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId,
        before: entry.before ? JSON.stringify(entry.before) : null,
        after: entry.after ? JSON.stringify(entry.after) : null,
      })),
    )
    .execute();
}

/** Shorthand for services acting for a project. */
export const audit = (tx: Tx | Db, project: ProjectContext, entry: AuditEntry) =>
  recordAudit(tx, project.projectId, actorOf(project), entry);

export interface AuditQuery {
  actor?: string;
  action?: string;
  target_type?: string;
  target_id?: string;
  page: number;
  page_size: number;
}

export async function listAudit(db: Db, projectId: string, query: AuditQuery) {
  let base = db.selectFrom('audit_log').where('project_id', '=', projectId);
  if (query.actor) base = base.where('actor_id', '=', query.actor);
  if (query.action) base = base.where('action', '=', query.action);
  if (query.target_type) base = base.where('target_type', '=', query.target_type);
  if (query.target_id) base = base.where('target_id', '=', query.target_id);
  const [rows, total] = await Promise.all([
    base
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.page_size)
      .offset((query.page - 1) * query.page_size)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return {
    data: rows.map((r) => ({
      id: String(r.id),
      actor_type: r.actor_type,
      actor_id: r.actor_id,
      action: r.action,
      target_type: r.target_type,
      target_id: r.target_id,
      before: r.before,
      after: r.after,
      created_at: r.created_at.toISOString(),
    })),
    page: query.page,
    page_size: query.page_size,
    total: Number(total.count),
  };
}
