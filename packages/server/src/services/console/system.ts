import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';

const ROTATED_TABLES = ['linked_accounts', 'integrations', 'webhook_endpoints'] as const;

/**
 * What an operator checks when something looks wrong: versions, schema, the key ring and how far a
 * rotation got, and whether webhook deliveries are flowing.
 */
export async function systemStatus(
  db: Db,
  input: { version: string; databaseKind: string; workerInProcess: boolean },
) {
  const migrations = await sql<{ name: string; timestamp: string }>`
    select name, timestamp from kysely_migration order by name`.execute(db);
  const keys = await db
    .selectFrom('encryption_keys')
    .select(['version', 'created_at'])
    .orderBy('version')
    .execute();
  const current = keys.at(-1)?.version ?? null;
  const rotation = await Promise.all(
    ROTATED_TABLES.map(async (table) => {
      const rows = await db
        .selectFrom(table)
        .select(['key_version', (eb) => eb.fn.countAll<string>().as('count')])
        .where('key_version', 'is not', null)
        .groupBy('key_version')
        .execute();
      const byVersion = Object.fromEntries(rows.map((r) => [String(r.key_version), Number(r.count)]));
      const total = rows.reduce((n, r) => n + Number(r.count), 0);
      return {
        table,
        by_version: byVersion,
        total,
        on_current: current === null ? 0 : (byVersion[String(current)] ?? 0),
      };
    }),
  );
  const backlog = await db
    .selectFrom('webhook_deliveries')
    .select([
      sql<string>`count(*) filter (where status = 'pending')`.as('pending'),
      sql<string>`count(*) filter (where status = 'pending' and next_attempt_at < now() - interval '1 minute')`.as(
        'overdue',
      ),
      sql<string>`count(*) filter (where status = 'failed')`.as('failed'),
      sql<Date | null>`min(next_attempt_at) filter (where status = 'pending')`.as('oldest_due'),
    ])
    .executeTakeFirstOrThrow();
  const lastTry = await db
    .selectFrom('webhook_delivery_attempts')
    .select((eb) => eb.fn.max('created_at').as('at'))
    .executeTakeFirst();
  const overdue = Number(backlog.overdue);
  return {
    version: input.version,
    database: input.databaseKind,
    migrations: migrations.rows.map((m) => ({
      name: m.name,
      applied_at: new Date(m.timestamp).toISOString(),
    })),
    key_ring: {
      current_version: current,
      versions: keys.map((k) => ({ version: k.version, created_at: k.created_at.toISOString() })),
      rotation,
      rotation_complete: rotation.every((r) => r.on_current === r.total),
    },
    webhooks: {
      pending: Number(backlog.pending),
      overdue,
      failed: Number(backlog.failed),
      oldest_due_at: backlog.oldest_due ? new Date(backlog.oldest_due).toISOString() : null,
      last_try_at: lastTry?.at ? new Date(lastTry.at as Date).toISOString() : null,
      worker_in_process: input.workerInProcess,
      // Deliveries due for over a minute mean no worker is picking them up.
      worker_healthy: overdue === 0,
    },
  };
}
