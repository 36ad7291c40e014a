import { type Kysely, sql } from 'kysely';

/**
 * The hub's reads (/hub/settings, /hub/connectors) are cached per session (src/cache/). They depend on
 * rows those sessions do not name: a project's auth configs, and its accounts by owner and provider.
 * Every change to those announces the project on the cache channel, inserts included (a new account
 * becomes a session's existing_account_id; a new auth config joins the list). Payload: "<kind>:<project
 * id>"; PostgreSQL folds identical notices of one transaction, so a bulk import sends one.
 */
const TRIGGERS = [
  { table: 'integrations', kind: 'p', events: sql`insert or update or delete` },
  // Token refreshes update other columns and leave the hub's answers alone.
  {
    table: 'linked_accounts',
    kind: 'o',
    events: sql`insert or delete or update of origin_owner_id, origin_owner_name, provider, project_id`,
  },
] as const;

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function plugboard_cache_notify_project() returns trigger language plpgsql as $$
    begin
      perform pg_notify('plugboard_cache', tg_argv[0] || ':' || (coalesce(to_jsonb(old), to_jsonb(new)) ->> 'project_id'));
      return null;
    end
    $$`.execute(db);
  for (const { table, kind, events } of TRIGGERS) {
    await sql`
      create trigger ${sql.id(`${table}_project_cache_notify`)}
      after ${events} on ${sql.table(table)}
      for each row execute function plugboard_cache_notify_project(${sql.lit(kind)})`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const { table } of TRIGGERS) {
    await sql`drop trigger if exists ${sql.id(`${table}_project_cache_notify`)} on ${sql.table(table)}`.execute(
      db,
    );
  }
  await sql`drop function if exists plugboard_cache_notify_project()`.execute(db);
}
