import type { Kysely } from 'kysely';

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Browser origins allowed to use this session's token on /hub/* (null: any allowed by configuration).
  await db.schema.alterTable('connect_sessions').addColumn('allowed_origins', 'jsonb').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connect_sessions').dropColumn('allowed_origins').execute();
}
