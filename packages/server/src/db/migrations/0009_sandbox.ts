import { type Kysely, sql } from 'kysely';

// Append-only: never edit a migration that has shipped; add a new file instead.
// The built-in sandbox provider's authorization server (src/sandbox/): its state lives here rather
// than in memory so that several processes sharing one PostgreSQL agree on codes and tokens.
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per authorization code: deleted when exchanged, so a code works once.
  await db.schema
    .createTable('sandbox_oauth_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // A grant is what the user allowed on the consent page; every token belongs to one.
  await db.schema
    .createTable('sandbox_oauth_grants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    // How many of the next refreshes fail on purpose, and how (POST /sandbox/accounts/{id}/fail_next_refresh).
    .addColumn('failing_refreshes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failing_refresh_error', 'text', (c) => c.notNull().defaultTo('invalid_grant'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('sandbox_oauth_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('grant_id', 'text', (c) =>
      c.notNull().references('sandbox_oauth_grants.id').onDelete('cascade'),
    )
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    // Refresh tokens rotate: set when one is exchanged, after which it is refused.
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('sandbox_oauth_tokens_grant_idx')
    .on('sandbox_oauth_tokens')
    .columns(['grant_id', 'kind'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sandbox_oauth_tokens').execute();
  await db.schema.dropTable('sandbox_oauth_grants').execute();
  await db.schema.dropTable('sandbox_oauth_codes').execute();
}
