import type { Kysely } from 'kysely';

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The OAuth flow is bound to the browser that started it: the hash of a nonce kept in a cookie.
  await db.schema.alterTable('oauth_states').addColumn('browser_binding_hash', 'text').execute();
  // When a failed refresh may be tried again; reads before then do not call the provider.
  await db.schema.alterTable('linked_accounts').addColumn('refresh_retry_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('linked_accounts').dropColumn('refresh_retry_at').execute();
  await db.schema.alterTable('oauth_states').dropColumn('browser_binding_hash').execute();
}
