import { type Kysely, sql } from 'kysely';

/**
 * A new key version (or a retired one) is announced on KEY_RING_CHANNEL in the writer's transaction,
 * so every process re-reads its key ring at once (src/crypto/vault.ts, listenForKeyChanges) instead of
 * encrypting with the previous key until its next timed refresh. One notice per statement: the payload
 * says nothing, the ring is re-read whole.
 */
// Append-only: never edit a migration that has shipped; add a new file instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function plugboard_key_ring_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('plugboard_key_ring', '');
      return null;
    end
    $$`.execute(db);
  await sql`
    create trigger encryption_keys_notify
    after insert or update or delete on encryption_keys
    for each statement execute function plugboard_key_ring_notify()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists encryption_keys_notify on encryption_keys`.execute(db);
  await sql`drop function if exists plugboard_key_ring_notify()`.execute(db);
}
