import type { Db } from '../db/database.ts';
import { toConnectSession } from './connect-sessions.ts';
import type { ProjectContext } from './tenancy.ts';

/** A project's recent connect sessions, newest first, with whether each is still usable. */
export async function listConnectSessions(
  db: Db,
  project: ProjectContext,
  query: { origin_owner_id?: string; page: number; page_size: number },
) {
  let base = db.selectFrom('connect_sessions').where('project_id', '=', project.projectId);
  if (query.origin_owner_id) base = base.where('origin_owner_id', '=', query.origin_owner_id);
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
  const now = Date.now();
  return {
    data: rows.map((row) => ({
      ...toConnectSession(row),
      expires_at: row.expires_at.toISOString(),
      revoked_at: row.revoked_at?.toISOString() ?? null,
      state: row.revoked_at ? 'revoked' : row.expires_at.getTime() <= now ? 'expired' : 'active',
    })),
    page: query.page,
    page_size: query.page_size,
    total: Number(total.count),
  };
}
