import { type Kysely, sql } from 'kysely';

/**
 * Reads cached beyond single rows (src/cache/): the hub's answers per session depend on a project's
 * auth configs and on its accounts by owner and provider; a session's latest connection attempt (in
 * POST /connect_sessions/authenticate) on the attempts of that session. Every change to those rows,
 * inserts included (a new account becomes a session's existing_account_id, a new auth config joins the
 * hub's list, a new attempt is the latest), announces what it touched on the cache channel, in the
 * writer's transaction. Payload: "<kind>:<value of column>"; PostgreSQL folds identical notices of one
 * transaction, so a bulk import sends one.
 */
const TRIGGERS = [
  { table: 'integrations', kind: 'p', column: 'project_id', events: sql`insert or update or delete` },
  // Token refreshes update other columns and leave the hub's answers alone.
  {
    table: 'linked_accounts',
    kind: 'o',
    column: 'project_id',
    events: sql`insert or delete or update of origin_owner_id, origin_owner_name, provider, project_id`,
  },
  { table: 'connection_attempts', kind: 't', column: 'session_id', events: sql`insert or update or delete` },
] as const;

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function plugboard_cache_notify_row() returns trigger language plpgsql as $$
    begin
      perform pg_notify('plugboard_cache', tg_argv[0] || ':' || (coalesce(to_jsonb(old), to_jsonb(new)) ->> tg_argv[1]));
      return null;
    end
    $$`.execute(db);
  for (const { table, kind, column, events } of TRIGGERS) {
    await sql`
      create trigger ${sql.id(`${table}_read_cache_notify`)}
      after ${events} on ${sql.table(table)}
      for each row execute function plugboard_cache_notify_row(${sql.lit(kind)}, ${sql.lit(column)})`.execute(
      db,
    );
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const { table } of TRIGGERS) {
    await sql`drop trigger if exists ${sql.id(`${table}_read_cache_notify`)} on ${sql.table(table)}`.execute(
      db,
    );
  }
  await sql`drop function if exists plugboard_cache_notify_row()`.execute(db);
}
