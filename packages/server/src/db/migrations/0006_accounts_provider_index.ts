import type { Kysely } from 'kysely';

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  // GET /accounts?provider=… pages in (created_at, id) order; without this, a rare provider means
  // scanning the project's accounts in that order until a page fills (measured in bench/accounts-list.ts).
  await db.schema
    .createIndex('linked_accounts_project_provider_created_idx')
    .on('linked_accounts')
    .columns(['project_id', 'provider', 'created_at', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('linked_accounts_project_provider_created_idx').execute();
}
