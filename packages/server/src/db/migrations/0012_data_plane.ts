import { type Kysely, sql } from 'kysely';

/**
 * Per-process caches (src/cache/) hold API keys, session tokens and accounts. Every UPDATE or DELETE of
 * those rows, and of the auth configs accounts depend on, announces itself on one channel in the same
 * transaction as the change (delivered on commit), whoever wrote it: the API, the hub, the OAuth
 * callback, the token refresher, the CLI or a hand-written SQL statement. Payload: "<kind>:<value>".
 * Inserts need no notice: caches only hold rows that were found.
 */
const TRIGGERS = [
  { table: 'api_keys', kind: 'k', column: 'key_hash' },
  { table: 'connect_sessions', kind: 's', column: 'token_hash' },
  { table: 'linked_accounts', kind: 'a', column: 'id' },
  { table: 'integrations', kind: 'i', column: 'id' },
] as const;

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function plugboard_cache_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('plugboard_cache', tg_argv[0] || ':' || (to_jsonb(old) ->> tg_argv[1]));
      return null;
    end
    $$`.execute(db);
  for (const { table, kind, column } of TRIGGERS) {
    await sql`
      create trigger ${sql.id(`${table}_cache_notify`)}
      after update or delete on ${sql.table(table)}
      for each row execute function plugboard_cache_notify(${sql.lit(kind)}, ${sql.lit(column)})`.execute(db);
  }
  // POST /connect_sessions/authenticate reads a session's latest attempt on every call; without this
  // it scanned every attempt of every session (and so did deleting a session, through the foreign key).
  await db.schema
    .createIndex('connection_attempts_session_idx')
    .on('connection_attempts')
    .columns(['session_id', 'created_at', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('connection_attempts_session_idx').execute();
  for (const { table } of TRIGGERS) {
    await sql`drop trigger if exists ${sql.id(`${table}_cache_notify`)} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop function if exists plugboard_cache_notify()`.execute(db);
}
