import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { accountAad, openVault, type Vault, webhookEndpointAad } from '../src/crypto/vault.ts';
import { type DatabaseHandle, type Db, openDatabase } from '../src/db/database.ts';
import { type RotationProgress, rotateKey } from '../src/services/key-rotation.ts';
import { backends, createTestDatabase } from './support/backends.ts';
import {
  assertAllReadable,
  insertAccount,
  insertIntegration,
  type Seeded,
  secret,
  seedProject,
  stored,
} from './support/encrypted-rows.ts';

// rotateKey against a live database: batches, writes from other processes while it runs, rows that do
// not decrypt or are locked. Rotating a PGlite data directory and the rotate-key command are in
// key-rotation-data-dir.test.ts.

async function insertWebhookEndpoint(db: Db, vault: Vault, project: { projectId: string }): Promise<Seeded> {
  const id = `whe_${randomBytes(8).toString('hex')}`;
  const plaintext = secret('whsec');
  const enc = vault.encrypt(plaintext, webhookEndpointAad(project.projectId, id));
  await db
    .insertInto('webhook_endpoints')
    .values({
      id,
      project_id: project.projectId,
      url: 'https://hooks.example.com/plugboard',
      enabled: true,
      secret_enc: enc.ciphertext,
      key_version: enc.keyVersion,
      updated_at: new Date(),
    })
    .execute();
  return { table: 'webhook_endpoints', id, projectId: project.projectId, plaintext };
}

/** Rewrites an account's credentials the way an API process does, with whatever key its vault has. */
async function updateAccount(db: Db, vault: Vault, row: Seeded): Promise<void> {
  row.plaintext = JSON.stringify({ access_token: secret('updated') });
  const enc = vault.encrypt(row.plaintext, accountAad(row.projectId, row.id));
  await db
    .updateTable('linked_accounts')
    .set({ credentials_enc: enc.ciphertext, key_version: enc.keyVersion })
    .where('id', '=', row.id)
    .execute();
}

async function olderRows(db: Db, version: number): Promise<number> {
  const a = await db
    .selectFrom('linked_accounts')
    .select('id')
    .where('credentials_enc', 'is not', null)
    .where('key_version', '<', version)
    .execute();
  const i = await db
    .selectFrom('integrations')
    .select('id')
    .where('oauth_client_secret_enc', 'is not', null)
    .where('key_version', '<', version)
    .execute();
  return a.length + i.length;
}

for (const backend of backends()) {
  describe(`key rotation (${backend})`, () => {
    const masterKey = randomBytes(32);
    /** Each test gets its own empty database, so counts are exact. */
    const withDb = async (fn: (db: Db, handle: DatabaseHandle & { url?: string }) => Promise<void>) => {
      const handle = await createTestDatabase(backend);
      try {
        await fn(handle.db, handle);
      } finally {
        await handle.close();
      }
    };

    test('re-encrypts every secret under the new key in batches; everything stays readable', () =>
      withDb(async (db) => {
        const vault = await openVault(db, masterKey);
        const project = await seedProject(db);
        const rows: Seeded[] = [];
        for (let i = 0; i < 7; i++) rows.push(await insertAccount(db, vault, project));
        for (let i = 0; i < 3; i++) rows.push(await insertIntegration(db, vault, project));
        for (let i = 0; i < 2; i++) rows.push(await insertWebhookEndpoint(db, vault, project));
        // Rows without a secret stay as they are.
        await db
          .insertInto('linked_accounts')
          .values({
            id: 'acc_no_credentials',
            organization_id: project.organizationId,
            project_id: project.projectId,
            provider: 'attio',
            origin_owner_id: 'o',
            origin_owner_name: 'O',
            status: 'active',
            updated_at: new Date(),
          })
          .execute();
        await assertAllReadable(db, masterKey, rows, 1);

        const progress: RotationProgress[] = [];
        const result = await rotateKey(db, vault, {
          batchSize: 3,
          onProgress: (p) => void progress.push(p),
        });

        assert.deepEqual(result, {
          version: 2,
          added: true,
          accounts: 7,
          integrations: 3,
          webhook_endpoints: 2,
          remaining: { accounts: 0, integrations: 0, webhook_endpoints: 0 },
          failed: [],
        });
        assert.deepEqual(
          progress.map((p) => `${p.table}:${p.reencrypted}`),
          [
            'linked_accounts:3',
            'linked_accounts:6',
            'linked_accounts:7',
            'integrations:3',
            'webhook_endpoints:2',
          ],
        );
        assert.equal(vault.currentVersion(), 2);
        await assertAllReadable(db, masterKey, rows, 2);
        const untouched = await db
          .selectFrom('linked_accounts')
          .select(['credentials_enc', 'key_version'])
          .where('id', '=', 'acc_no_credentials')
          .executeTakeFirstOrThrow();
        assert.deepEqual(untouched, { credentials_enc: null, key_version: null });
        // Rotation is not a change to the account: updated_at (on the wire) is left alone.
        const times = await db
          .selectFrom('linked_accounts')
          .select('updated_at')
          .where('id', '!=', 'acc_no_credentials')
          .execute();
        for (const t of times) assert.equal(new Date(t.updated_at).toISOString(), '2024-01-02T03:04:05.000Z');
        // The old key is kept for values written by processes that have not refreshed yet.
        const keys = await db.selectFrom('encryption_keys').select('version').orderBy('version').execute();
        assert.deepEqual(
          keys.map((k) => k.version),
          [1, 2],
        );

        // Running again rotates again; --finish on a clean ring adds nothing and re-encrypts nothing.
        const again = await rotateKey(db, vault);
        assert.equal(again.version, 3);
        assert.equal(again.accounts, 7);
        assert.equal(again.integrations, 3);
        assert.deepEqual(await rotateKey(db, vault, { reencryptOnly: true }), {
          version: 3,
          added: false,
          accounts: 0,
          integrations: 0,
          webhook_endpoints: 0,
          remaining: { accounts: 0, integrations: 0, webhook_endpoints: 0 },
          failed: [],
        });
        await assertAllReadable(db, masterKey, rows, 3);
      }));

    test('writes between batches, with the old key and with the new one, stay readable', () =>
      withDb(async (db) => {
        const vault = await openVault(db, masterKey);
        const project = await seedProject(db);
        const accounts: Seeded[] = [];
        const rows: Seeded[] = [];
        for (let i = 0; i < 6; i++) accounts.push(await insertAccount(db, vault, project));
        rows.push(...accounts);
        for (let i = 0; i < 4; i++) rows.push(await insertIntegration(db, vault, project));
        // Another API process that has not refreshed its ring since the rotation began…
        const stale = await openVault(db, masterKey);
        // …and one that has.
        const fresh = await openVault(db, masterKey);
        const late: Seeded[] = [];

        const result = await rotateKey(db, vault, {
          batchSize: 2,
          onProgress: async (p) => {
            if (p.table === 'linked_accounts' && p.reencrypted === 2) {
              // After the first batch: an insert and an update of an already re-encrypted row with the
              // old key, an insert with the new key, and an auth config secret with the old key.
              rows.push(await insertAccount(db, stale, project));
              await updateAccount(db, stale, accounts[0]!);
              await fresh.refresh();
              rows.push(await insertAccount(db, fresh, project));
              rows.push(await insertIntegration(db, stale, project));
            } else if (p.table === 'integrations') {
              // The accounts pass is over: only a second run can catch these.
              const row = await insertAccount(db, stale, project);
              rows.push(row);
              late.push(row);
            }
          },
        });

        assert.equal(stale.currentVersion(), 1, 'the stale process really wrote with the old key');
        assert.equal(fresh.currentVersion(), 2);
        assert.equal(result.version, 2);
        assert.deepEqual(result.failed, []);
        // 6 seeded + 1 inserted + 1 updated with the old key; 4 seeded + 1 inserted auth config secrets.
        assert.equal(result.accounts, 8);
        assert.equal(result.integrations, 5);
        assert.equal(late.length, 3, 'one per integrations batch (2 + 2 + 1)');
        assert.deepEqual(result.remaining, { accounts: late.length, integrations: 0, webhook_endpoints: 0 });
        await assertAllReadable(db, masterKey, rows);
        assert.equal(await olderRows(db, 2), late.length);

        const finish = await rotateKey(db, vault, { reencryptOnly: true, batchSize: 2 });
        assert.equal(finish.version, 2);
        assert.equal(finish.accounts, late.length);
        assert.deepEqual(finish.remaining, { accounts: 0, integrations: 0, webhook_endpoints: 0 });
        await assertAllReadable(db, masterKey, rows, 2);
      }));

    test('a row that does not decrypt is reported and left alone; the rest is rotated', () =>
      withDb(async (db) => {
        const vault = await openVault(db, masterKey);
        const project = await seedProject(db);
        const good = await insertAccount(db, vault, project);
        const bad = await insertAccount(db, vault, project);
        // Another row's ciphertext copied onto it: right key, wrong row.
        const { enc } = await stored(db, good);
        await db
          .updateTable('linked_accounts')
          .set({ credentials_enc: enc })
          .where('id', '=', bad.id)
          .execute();

        const result = await rotateKey(db, vault, { batchSize: 1 });
        assert.equal(result.accounts, 1);
        assert.deepEqual(
          result.failed.map((f) => [f.table, f.id, f.code]),
          [['linked_accounts', bad.id, 'decrypt_failed']],
        );
        assert.deepEqual(result.remaining, { accounts: 1, integrations: 0, webhook_endpoints: 0 });
        assert.equal((await stored(db, bad)).enc, enc, 'the broken row is untouched');
        await assertAllReadable(db, masterKey, [good], 2);
      }));

    test(
      'a row locked by a request is skipped, not waited for, and finished by a second run',
      { skip: backend !== 'postgres' && 'PGlite has one connection: nothing else can hold a row lock' },
      () =>
        withDb(async (db, handle) => {
          const vault = await openVault(db, masterKey);
          const project = await seedProject(db);
          const rows: Seeded[] = [];
          for (let i = 0; i < 3; i++) rows.push(await insertAccount(db, vault, project));
          const other = await openDatabase({ databaseUrl: handle.url, dataDir: 'memory', poolSize: 1 });
          try {
            let locked!: () => void;
            let release!: () => void;
            const isLocked = new Promise<void>((r) => {
              locked = r;
            });
            const released = new Promise<void>((r) => {
              release = r;
            });
            const holder = other.db.transaction().execute(async (tx) => {
              await tx
                .selectFrom('linked_accounts')
                .select('id')
                .where('id', '=', rows[1]!.id)
                .forUpdate()
                .execute();
              locked();
              await released;
            });
            await isLocked;
            const result = await rotateKey(db, vault, { batchSize: 1 }).finally(release);
            await holder;
            assert.equal(result.accounts, 2);
            assert.deepEqual(result.remaining, { accounts: 1, integrations: 0, webhook_endpoints: 0 });
            assert.equal((await stored(db, rows[1]!)).version, 1);
            await assertAllReadable(db, masterKey, rows);

            const finish = await rotateKey(db, vault, { reencryptOnly: true });
            assert.equal(finish.accounts, 1);
            await assertAllReadable(db, masterKey, rows, 2);
          } finally {
            await other.close();
          }
        }),
    );

    test(
      'another process writing throughout a rotation loses nothing',
      { skip: backend !== 'postgres' && 'needs a second connection' },
      () =>
        withDb(async (db, handle) => {
          const vault = await openVault(db, masterKey);
          const project = await seedProject(db);
          const accounts: Seeded[] = [];
          for (let i = 0; i < 20; i++) accounts.push(await insertAccount(db, vault, project));
          const rows = [...accounts];
          const other = await openDatabase({ databaseUrl: handle.url, dataDir: 'memory', poolSize: 3 });
          try {
            const stale = await openVault(other.db, masterKey);
            let rotating = true;
            const writer = (async () => {
              // Some writes whatever the scheduling, and more for as long as the rotation runs; the
              // writer picks up the new key now and then, as the refresh timer would.
              for (let i = 0; i < 10 || rotating; i++) {
                rows.push(await insertAccount(other.db, stale, project));
                await updateAccount(other.db, stale, accounts[i % accounts.length]!);
                if (i % 5 === 4) await stale.refresh();
              }
            })();
            const result = await rotateKey(db, vault, { batchSize: 2 }).finally(() => {
              rotating = false;
            });
            await writer;
            assert.deepEqual(result.failed, []);
            await assertAllReadable(db, masterKey, rows);
            const finish = await rotateKey(db, vault, { reencryptOnly: true });
            assert.deepEqual(finish.remaining, { accounts: 0, integrations: 0, webhook_endpoints: 0 });
            await assertAllReadable(db, masterKey, rows, 2);
          } finally {
            await other.close();
          }
        }),
    );
  });
}
