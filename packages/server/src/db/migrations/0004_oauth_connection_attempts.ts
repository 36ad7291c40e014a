import { type Kysely, sql } from 'kysely';

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Every try to connect, kept after it ends so abandoned and failed connects stay visible.
  await db.schema
    .createTable('connection_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('session_id', 'bigint', (c) =>
      c.notNull().references('connect_sessions.id').onDelete('cascade'),
    )
    .addColumn('origin_owner_id', 'text', (c) => c.notNull())
    .addColumn('integration_id', 'uuid')
    .addColumn('provider', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('account_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_description', 'text')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('connection_attempts_owner_idx')
    .on('connection_attempts')
    .columns(['project_id', 'origin_owner_id', 'created_at'])
    .execute();

  // One row per started authorization: single use (deleted when the provider comes back).
  await db.schema
    .createTable('oauth_states')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('attempt_id', 'text', (c) =>
      c.notNull().references('connection_attempts.id').onDelete('cascade'),
    )
    .addColumn('integration_id', 'uuid', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('code_verifier_enc', 'text', (c) => c.notNull())
    .addColumn('settings', 'jsonb')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .alterTable('linked_accounts')
    .addColumn('token_expires_at', 'timestamptz')
    .addColumn('refresh_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('linked_accounts_token_expiry_idx')
    .on('linked_accounts')
    .column('token_expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('linked_accounts')
    .dropColumn('token_expires_at')
    .dropColumn('refresh_failures')
    .execute();
  await db.schema.dropTable('oauth_states').execute();
  await db.schema.dropTable('connection_attempts').execute();
}
