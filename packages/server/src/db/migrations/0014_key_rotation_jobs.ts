import { type Kysely, sql } from 'kysely';

// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Key rotations started from the console. They run in the background of one API process; the row is
  // how every other process (behind the same load balancer) reports their progress, and how a second
  // start anywhere is refused while one runs.
  await db.schema
    .createTable('key_rotation_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // rotate: add a key version, then re-encrypt; finish: re-encrypt rows still under older versions.
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('rotate', 'finish')`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('running', 'finished', 'failed', 'interrupted')`),
    )
    .addColumn('started_by', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Refreshed while the job runs: a running row whose heartbeat stopped belongs to a process that died.
    .addColumn('heartbeat_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('version', 'integer')
    // Per table: rows to re-encrypt, re-encrypted, failed, and (once finished) still under older keys.
    .addColumn('tables', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    // Rows that did not decrypt: table, id, code and message (no secret).
    .addColumn('failed_rows', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('error', 'text')
    .execute();
  // At most one running job per database, whichever process started it.
  await sql`create unique index key_rotation_jobs_one_running on key_rotation_jobs (status) where status = 'running'`.execute(
    db,
  );
  await db.schema
    .createIndex('key_rotation_jobs_started_idx')
    .on('key_rotation_jobs')
    .column('started_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('key_rotation_jobs').execute();
}
