import type { Kysely } from 'kysely';

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  // POST /webhooks/inbound/{external_trigger_token} finds the session (and through it the linked
  // account) by this token on every provider event; without the index that is a scan of all sessions.
  await db.schema
    .createIndex('connect_sessions_external_trigger_token_idx')
    .on('connect_sessions')
    .column('external_trigger_token')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('connect_sessions_external_trigger_token_idx').execute();
}
