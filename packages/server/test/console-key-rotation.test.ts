import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { openVault } from '../src/crypto/vault.ts';
import { openDatabase } from '../src/db/database.ts';
import { keyRotationRunner } from '../src/services/console/key-rotation-jobs.ts';
import { rotateKey } from '../src/services/key-rotation.ts';
import { backends } from './support/backends.ts';
import { ConsoleClient, operatorWithPassword } from './support/console.ts';
import {
  assertAllReadable,
  insertAccount,
  insertIntegration,
  type Seeded,
  seedProject,
  stored,
} from './support/encrypted-rows.ts';
import { freePort, startTestServer, type TestServer } from './support/server.ts';

// The console's key rotation job: started by POST /console/api/system/key_rotation, run in the
// background of the server, watched with GET. rotateKey itself is covered by key-rotation.test.ts.

/** Enough rows that a run of one-row batches takes many polls to finish. */
const ACCOUNTS = 120;

// biome-ignore lint/suspicious/noExplicitAny: job snapshots are arbitrary JSON from the API.
type Job = any;

for (const backend of backends()) {
  describe(`console key rotation job (${backend})`, () => {
    let server: TestServer;
    let client: ConsoleClient;
    const rows: Seeded[] = [];
    /** The first account's ciphertext under key version 1, before any rotation. */
    let underVersion1: string;
    const email = 'keys@example.com';

    before(async () => {
      server = await startTestServer(backend, { LOG_LEVEL: 'silent' });
      const { password } = await operatorWithPassword(server, email);
      client = new ConsoleClient(server);
      assert.equal((await client.signIn(email, password)).status, 201);
      const project = await seedProject(server.database.db);
      for (let i = 0; i < ACCOUNTS; i++)
        rows.push(await insertAccount(server.database.db, server.vault, project));
      for (let i = 0; i < 3; i++)
        rows.push(await insertIntegration(server.database.db, server.vault, project));
      underVersion1 = (await stored(server.database.db, rows[0] as Seeded)).enc as string;
    });
    after(() => server.close());

    /** Polls as fast as the server answers until the job has ended; every snapshot on the way. */
    async function watch(): Promise<Job[]> {
      const seen: Job[] = [];
      for (;;) {
        const res = await client.call('GET', '/system/key_rotation');
        assert.equal(res.status, 200);
        seen.push(res.body.job);
        if (res.body.job.status !== 'running') return seen;
      }
    }
    const table = (job: Job, name: string) => job.tables.find((t: Job) => t.table === name);

    test('signed out, neither starting nor watching is possible', async () => {
      const stranger = new ConsoleClient(server);
      const start = await stranger.call('POST', '/system/key_rotation', { mode: 'rotate' });
      assert.equal(start.status, 401);
      assert.equal(start.body.statusCode, 401);
      assert.equal((await stranger.call('GET', '/system/key_rotation')).status, 401);
      assert.deepEqual((await client.call('GET', '/system/key_rotation')).body, { job: null });
    });

    test('a start without the CSRF header, or from another origin, is refused and adds no key', async () => {
      const noToken = await client.call(
        'POST',
        '/system/key_rotation',
        { mode: 'rotate' },
        { 'x-csrf-token': '' },
      );
      assert.equal(noToken.status, 403);
      assert.match(noToken.body.message, /x-csrf-token/);
      const foreign = await client.call(
        'POST',
        '/system/key_rotation',
        { mode: 'rotate' },
        { origin: 'https://evil.example' },
      );
      assert.equal(foreign.status, 403);
      assert.deepEqual((await client.call('GET', '/system/key_rotation')).body, { job: null });
      assert.equal(server.vault.currentVersion(), 1);
    });

    test('a bad body is a 400 in the wire shape', async () => {
      const res = await client.call('POST', '/system/key_rotation', { mode: 'spin', batch_size: 0 });
      assert.equal(res.status, 400);
      assert.equal(res.body.statusCode, 400);
      assert.ok(res.body.errors.length >= 2, res.body.errors.join('; '));
    });

    test('rotate: the job outlives its request, reports progress per table, refuses a second start, and is audited', async () => {
      const start = await client.call('POST', '/system/key_rotation', { mode: 'rotate', batch_size: 1 });
      assert.equal(start.status, 202);
      assert.equal(start.body.mode, 'rotate');
      assert.equal(start.body.status, 'running');
      assert.equal(start.body.started_by, email);

      const second = await client.call('POST', '/system/key_rotation', { mode: 'finish' });
      assert.equal(second.status, 409);
      assert.equal(second.body.statusCode, 409);
      assert.match(second.body.message, /already running \(started by keys@example\.com/);
      assert.equal(typeof second.body.timestamp, 'string');

      const seen = await watch();
      const accounts = seen.filter((j) => j.status === 'running' && table(j, 'linked_accounts'));
      assert.ok(
        accounts.some((j) => {
          const t = table(j, 'linked_accounts');
          return t.reencrypted > 0 && t.reencrypted < t.total;
        }),
        `no snapshot caught the accounts half done (${seen.length} polls)`,
      );
      const counts = accounts.map((j) => table(j, 'linked_accounts').reencrypted);
      assert.deepEqual(
        counts,
        [...counts].sort((a, b) => a - b),
        'progress only grows',
      );

      const done = seen.at(-1);
      assert.equal(done.id, start.body.id);
      assert.equal(done.status, 'finished');
      assert.equal(done.version, 2);
      assert.equal(done.error, null);
      assert.deepEqual(done.failed_rows, []);
      assert.deepEqual(done.tables, [
        { table: 'linked_accounts', total: ACCOUNTS, reencrypted: ACCOUNTS, failed: 0, remaining: 0 },
        { table: 'integrations', total: 3, reencrypted: 3, failed: 0, remaining: 0 },
        { table: 'webhook_endpoints', total: 0, reencrypted: 0, failed: 0, remaining: 0 },
      ]);
      assert.ok(done.finished_at >= done.started_at);
      assert.equal(server.vault.currentVersion(), 2);
      await assertAllReadable(server.database.db, server.masterKey, rows, 2);
      const system = await client.call('GET', '/system');
      assert.equal(system.body.key_ring.current_version, 2);
      assert.equal(system.body.key_ring.rotation_complete, true);

      const audit = await server.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('target_type', '=', 'key_rotation')
        .where('target_id', '=', done.id)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        audit.map((a) => [a.action, a.actor_type, a.actor_id, a.project_id]),
        [
          ['key_rotation.started', 'operator', email, null],
          ['key_rotation.finished', 'operator', email, null],
        ],
      );
      assert.equal((audit[1]?.after as Job)?.version, 2);
    });

    test('finish: re-encrypts only what is left, adds no key, and lists rows that do not decrypt', async () => {
      const db = server.database.db;
      const [a, b, c] = rows as [Seeded, Seeded, Seeded];
      // A row a lagging process wrote with the old key (still readable) ...
      await db
        .updateTable('linked_accounts')
        .set({ key_version: 1, credentials_enc: underVersion1 })
        .where('id', '=', a.id)
        .execute();
      // ... and one holding another row's ciphertext, which its ids refuse.
      const other = await db
        .selectFrom('linked_accounts')
        .select('credentials_enc')
        .where('id', '=', c.id)
        .executeTakeFirstOrThrow();
      await db
        .updateTable('linked_accounts')
        .set({ key_version: 1, credentials_enc: other.credentials_enc })
        .where('id', '=', b.id)
        .execute();
      assert.equal((await client.call('GET', '/system')).body.key_ring.rotation_complete, false);

      const start = await client.call('POST', '/system/key_rotation', { mode: 'finish' });
      assert.equal(start.status, 202);
      const done = (await watch()).at(-1);
      assert.equal(done.status, 'finished');
      assert.equal(done.mode, 'finish');
      assert.equal(done.version, 2, 'no key added');
      assert.equal(server.vault.currentVersion(), 2);
      assert.deepEqual(table(done, 'linked_accounts'), {
        table: 'linked_accounts',
        total: 2,
        reencrypted: 1,
        failed: 1,
        remaining: 1,
      });
      assert.equal(done.failed_rows.length, 1);
      assert.equal(done.failed_rows[0].id, b.id);
      assert.equal(done.failed_rows[0].code, 'decrypt_failed');
      assert.match(done.failed_rows[0].message, /copied from another row/);
      await assertAllReadable(db, server.masterKey, [a], 2);
    });

    test('a job whose process died is reported interrupted and does not block the next start', async () => {
      const db = server.database.db;
      await db
        .insertInto('key_rotation_jobs')
        .values({
          id: 'rot_dead',
          mode: 'rotate',
          status: 'running',
          started_by: 'gone@example.com',
          started_at: new Date(Date.now() + 60_000),
          heartbeat_at: new Date(Date.now() - 5 * 60_000),
        })
        .execute();
      const seen = (await client.call('GET', '/system/key_rotation')).body.job;
      assert.equal(seen.id, 'rot_dead');
      assert.equal(seen.status, 'interrupted');
      assert.match(seen.error, /stopped reporting progress.*Finish rotation/);

      const start = await client.call('POST', '/system/key_rotation', { mode: 'finish' });
      assert.equal(start.status, 202, start.body.message);
      const dead = await db
        .selectFrom('key_rotation_jobs')
        .select(['status', 'finished_at'])
        .where('id', '=', 'rot_dead')
        .executeTakeFirstOrThrow();
      assert.equal(dead.status, 'interrupted');
      assert.ok(dead.finished_at);
      const audited = await db
        .selectFrom('audit_log')
        .select(['action', 'actor_id'])
        .where('target_id', '=', 'rot_dead')
        .execute();
      assert.deepEqual(audited, [{ action: 'key_rotation.interrupted', actor_id: email }]);
      // (started_at in the future keeps rot_dead the latest; wait for the new job by id.)
      for (;;) {
        const job = await db
          .selectFrom('key_rotation_jobs')
          .select('status')
          .where('id', '=', start.body.id)
          .executeTakeFirstOrThrow();
        if (job.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await db.deleteFrom('key_rotation_jobs').where('id', '=', 'rot_dead').execute();
    });

    test('a CLI rotation while the console job runs leaves every secret readable', async () => {
      const start = await client.call('POST', '/system/key_rotation', { mode: 'rotate', batch_size: 1 });
      assert.equal(start.status, 202);
      // What `plugboard rotate-key` does, from a vault of its own (another process).
      const cli = await openVault(server.database.db, server.masterKey);
      const [cliResult, seen] = await Promise.all([
        rotateKey(server.database.db, cli, { batchSize: 5 }),
        watch(),
      ]);
      const done = seen.at(-1);
      assert.equal(done.status, 'finished');
      // Each added a key; whichever came second is current.
      assert.deepEqual([done.version, cliResult.version].sort(), [3, 4]);
      const healthy = rows.filter((r) => r.id !== rows[1]?.id);
      await assertAllReadable(server.database.db, server.masterKey, healthy);
      // A finish run brings every row to the newest key.
      const finish = await client.call('POST', '/system/key_rotation', { mode: 'finish' });
      assert.equal(finish.status, 202);
      assert.equal((await watch()).at(-1).version, 4);
      await assertAllReadable(server.database.db, server.masterKey, healthy, 4);
    });

    test('shutting down stops a running job after its batch and records it as interrupted', async () => {
      const db = server.database.db;
      // What the console route does in a process that is closing (its onClose hook).
      const runner = keyRotationRunner({ db, vault: server.vault });
      const job = await runner.start({
        mode: 'rotate',
        actor: { type: 'operator', id: email },
        batchSize: 1,
      });
      await runner.stop();
      const row = await db
        .selectFrom('key_rotation_jobs')
        .selectAll()
        .where('id', '=', job.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'interrupted');
      assert.match(row.error ?? '', /shut down while the rotation ran.*Finish rotation/);
      const accounts = row.tables.find((t) => t.table === 'linked_accounts');
      assert.ok(accounts && accounts.reencrypted < accounts.total, 'stopped before the end');
      const actions = await db
        .selectFrom('audit_log')
        .select('action')
        .where('target_id', '=', job.id)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        actions.map((a) => a.action),
        ['key_rotation.started', 'key_rotation.interrupted'],
      );
      await assert.rejects(
        runner.start({ mode: 'finish', actor: { type: 'operator', id: email } }),
        /shutting down/,
      );
      // Nothing is lost: a finish run from the console completes it.
      assert.equal((await client.call('POST', '/system/key_rotation', { mode: 'finish' })).status, 202);
      const done = (await watch()).at(-1);
      assert.equal(done.status, 'finished');
      await assertAllReadable(
        db,
        server.masterKey,
        rows.filter((r) => r.id !== rows[1]?.id),
        done.version,
      );
    });

    test('another server process on the same database sees the job and refuses a second start', {
      skip: backend === 'pglite' && 'PGlite is one process',
    }, async () => {
      // A second API process: its own pool, key ring and job runner, the same PostgreSQL database.
      const database = await openDatabase({
        databaseUrl: server.database.url,
        dataDir: 'memory',
        poolSize: 4,
      });
      const vault = await openVault(database.db, server.masterKey);
      const app = await buildApp({
        config: server.config,
        db: database.db,
        vault,
        catalogue: server.catalogue,
      });
      const port = await freePort();
      await app.listen({ host: '127.0.0.1', port });
      try {
        const other = new ConsoleClient({ ...server, url: `http://127.0.0.1:${port}` });
        Object.assign(other, { cookie: client.cookie, csrf: client.csrf });
        const before = vault.currentVersion();

        const start = await client.call('POST', '/system/key_rotation', { mode: 'rotate', batch_size: 1 });
        assert.equal(start.status, 202);
        const seen = await other.call('GET', '/system/key_rotation');
        assert.equal(seen.body.job.id, start.body.id);
        assert.equal(seen.body.job.status, 'running');
        const refused = await other.call('POST', '/system/key_rotation', { mode: 'rotate' });
        assert.equal(refused.status, 409);
        assert.match(refused.body.message, /already running/);

        const done = (await watch()).at(-1);
        assert.equal(done.status, 'finished');
        // The other process learns the new key on its next ring refresh (startVaultRefresh in serve).
        assert.equal(vault.currentVersion(), before);
        await vault.refresh();
        assert.equal(vault.currentVersion(), done.version);
      } finally {
        await app.close();
        await database.close();
      }
    });
  });
}
