import { type Kysely, sql } from 'kysely';

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  // A refresh worker's claim on the account: other workers skip it until then (a crashed worker's
  // claim simply runs out).
  await db.schema.alterTable('linked_accounts').addColumn('refresh_claimed_until', 'timestamptz').execute();
  // The id an imported account had in the system it came from: re-running an import finds it again
  // (unique per project, auth config and end customer).
  await db.schema.alterTable('linked_accounts').addColumn('external_id', 'text').execute();
  // Finding due refreshes reads this index in expiry order and stops at the first not-yet-due token,
  // instead of scanning every account (most are API-key accounts or far from expiry).
  await db.schema
    .createIndex('linked_accounts_refresh_due_idx')
    .on('linked_accounts')
    .column('token_expires_at')
    .where(sql.raw<boolean>("token_expires_at is not null and status in ('active', 'expired')"))
    .execute();
  await db.schema
    .createIndex('linked_accounts_external_id_idx')
    .on('linked_accounts')
    .columns(['project_id', 'integration_id', 'origin_owner_id', 'external_id'])
    .unique()
    .where(sql.raw<boolean>('external_id is not null'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('linked_accounts_external_id_idx').execute();
  await db.schema.dropIndex('linked_accounts_refresh_due_idx').execute();
  await db.schema.alterTable('linked_accounts').dropColumn('external_id').execute();
  await db.schema.alterTable('linked_accounts').dropColumn('refresh_claimed_until').execute();
}
