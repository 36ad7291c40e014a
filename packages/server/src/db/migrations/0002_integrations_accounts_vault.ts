import { type Kysely, sql } from 'kysely';

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Data-encryption keys, each wrapped (AES-256-GCM) by the master key from configuration.
  // The highest non-retired version encrypts; every version stays usable for decryption.
  await db.schema
    .createTable('encryption_keys')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('retired_at', 'timestamptz')
    .execute();

  // StackOne's "auth configs": a connector enabled in a project, with its OAuth client and URL overrides.
  await db.schema
    .createTable('integrations')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('connector_key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // Which of the connector's auth methods this integration offers (StackOne's authentication_config_key).
    .addColumn('auth_method', 'text', (c) => c.notNull())
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('is_default', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('environment', 'text', (c) => c.notNull().defaultTo('production'))
    .addColumn('oauth_client_id', 'text')
    .addColumn('oauth_client_secret_enc', 'text')
    .addColumn('oauth_scopes', 'jsonb')
    .addColumn('urls', 'jsonb')
    .addColumn('key_version', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('integrations_project_idx')
    .on('integrations')
    .columns(['project_id', 'connector_key', 'created_at'])
    .execute();

  await db.schema
    .createTable('linked_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'bigint', (c) => c.notNull().references('organizations.id'))
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('integration_id', 'uuid', (c) => c.references('integrations.id').onDelete('set null'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('origin_owner_id', 'text', (c) => c.notNull())
    .addColumn('origin_owner_name', 'text', (c) => c.notNull())
    .addColumn('origin_username', 'text')
    .addColumn('label', 'text')
    .addColumn('type', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('status_reasons', 'jsonb')
    .addColumn('setup_information', 'jsonb')
    .addColumn('metadata', 'jsonb')
    // AES-256-GCM envelope "v<version>.<base64 iv|tag|ciphertext>" of the credentials JSON.
    .addColumn('credentials_enc', 'text')
    .addColumn('key_version', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('linked_accounts_project_created_idx')
    .on('linked_accounts')
    .columns(['project_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('linked_accounts_owner_idx')
    .on('linked_accounts')
    .columns(['project_id', 'origin_owner_id', 'provider'])
    .execute();
  await db.schema
    .createIndex('linked_accounts_key_version_idx')
    .on('linked_accounts')
    .column('key_version')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['linked_accounts', 'integrations', 'encryption_keys']) {
    await db.schema.dropTable(table).execute();
  }
}
