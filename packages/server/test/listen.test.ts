import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, mock, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { CACHE_CHANNEL, cachesOf, startDataCaches } from '../src/cache/data-caches.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { createPostgresListener, LISTEN_APPLICATION_NAME } from '../src/db/listener.ts';
import { startServer } from '../src/server.ts';
import { backends, createTestDatabase } from './support/backends.ts';

const databaseUrl = process.env.DATABASE_URL;

/** Collects what a subscriber hears. */
function subscriber() {
  const heard: string[] = [];
  let lost = 0;
  let restored = 0;
  return {
    heard,
    lost: () => lost,
    restored: () => restored,
    onNotify: (payload: string) => void heard.push(payload),
    events: { lost: () => void lost++, restored: () => void restored++ },
  };
}

async function eventually(check: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const backend of backends()) {
  test(`${backend}: a subscriber that throws keeps no notice from the others and leaves the process running`, async () => {
    const database = await createTestDatabase(backend);
    const warnings: string[] = [];
    const warned = mock.method(process, 'emitWarning', (warning: string | Error) => {
      warnings.push(String(warning));
    });
    try {
      const channel = `plugboard_listen_test_${randomBytes(4).toString('hex')}`;
      const others = [subscriber(), subscriber()];
      const stops = [
        await database.listen(channel, others[0]!.onNotify),
        await database.listen(channel, () => {
          throw new Error('a bug in a subscriber');
        }),
        await database.listen(channel, others[1]!.onNotify),
      ];
      for (const payload of ['first', 'second'])
        await sql`select pg_notify(${channel}, ${payload})`.execute(database.db);
      await eventually(
        () => others.every((o) => o.heard.length === 2),
        'both other subscribers heard both notices',
      );
      for (const o of others) assert.deepEqual(o.heard, ['first', 'second']);
      assert.equal(warnings.length, 2);
      assert.match(
        warnings[0]!,
        new RegExp(`"${channel}" channel failed on a notice: Error: a bug in a subscriber`),
      );
      for (const stop of stops) await stop();
    } finally {
      warned.mock.restore();
      await database.close();
    }
  });
}

/** LISTEN connections only exist on PostgreSQL: PGlite listens inside its one in-process client. */
describe('LISTEN: one connection per database handle', { skip: !databaseUrl && 'needs DATABASE_URL' }, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  before(async () => {
    database = await createTestDatabase('postgres');
  });
  after(async () => {
    await database.close();
  });

  /** Each test listens through a handle of its own on the test database, as another process would. */
  const open = () => openDatabase({ databaseUrl: database.url!, dataDir: 'memory', poolSize: 2 });

  /** Other test files (and other checkouts) share this server: count this database's listeners only. */
  const listeners = async () => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and application_name = ${LISTEN_APPLICATION_NAME}`.execute(
      database.db,
    );
    return rows[0]!.n;
  };

  const notify = (channel: string, payload: string) =>
    sql`select pg_notify(${channel}, ${payload})`.execute(database.db);

  test('three channels, listened at once, share one connection; each notice reaches its own channel only', async () => {
    const h = await open();
    const [cache, cacheToo, keys, hooks] = [subscriber(), subscriber(), subscriber(), subscriber()];
    try {
      // All at once, before any connection exists: they must wait for the same one.
      await Promise.all([
        h.listen('pb_cache', cache.onNotify, cache.events),
        h.listen('pb_cache', cacheToo.onNotify, cacheToo.events),
        h.listen('pb_keys', keys.onNotify, keys.events),
        h.listen('pb_hooks', hooks.onNotify, hooks.events),
      ]);
      assert.equal(await listeners(), 1);
      await notify('pb_cache', 'c1');
      await notify('pb_keys', 'k1');
      await notify('pb_hooks', 'h1');
      await notify('pb_nobody', 'n1');
      await eventually(
        () => cache.heard.length + cacheToo.heard.length + keys.heard.length + hooks.heard.length === 4,
        'the notices',
      );
      // Sent last, so anything misdelivered before it would have arrived by now.
      await notify('pb_hooks', 'h2');
      await eventually(() => hooks.heard.length === 2, 'the last notice');
      assert.deepEqual(cache.heard, ['c1']);
      assert.deepEqual(cacheToo.heard, ['c1']);
      assert.deepEqual(keys.heard, ['k1']);
      assert.deepEqual(hooks.heard, ['h1', 'h2']);
      // Channels are LISTENed once however many subscribe.
      assert.equal(await listeners(), 1);
    } finally {
      await h.close();
    }
  });

  test('a stopped subscriber hears nothing more; the last stop ends the connection', async () => {
    const h = await open();
    const [a, b, c] = [subscriber(), subscriber(), subscriber()];
    try {
      const stopA = await h.listen('pb_one', a.onNotify, a.events);
      const stopB = await h.listen('pb_one', b.onNotify, b.events);
      const stopC = await h.listen('pb_two', c.onNotify, c.events);
      await stopA();
      await notify('pb_one', 'x');
      await eventually(() => b.heard.length === 1, 'the notice to the remaining subscriber');
      await stopB();
      // pb_one is UNLISTENed now; pb_two still hears on the same connection.
      await notify('pb_one', 'y');
      await notify('pb_two', 'z');
      await eventually(() => c.heard.length === 1, 'the notice on the other channel');
      assert.deepEqual(a.heard, []);
      assert.deepEqual(b.heard, ['x']);
      assert.equal(await listeners(), 1);
      await stopC();
      await eventually(async () => (await listeners()) === 0, 'the connection closing after the last stop');
      await stopC(); // twice is harmless
      assert.equal(a.lost() + b.lost() + c.lost(), 0, 'our own stop is no loss');
      // And the next listen opens a new one.
      const d = subscriber();
      await h.listen('pb_one', d.onNotify, d.events);
      assert.equal(await listeners(), 1);
      await notify('pb_one', 'w');
      await eventually(() => d.heard.length === 1, 'a notice after listening again');
    } finally {
      await h.close();
    }
    await eventually(async () => (await listeners()) === 0, 'the connection closing with the handle');
  });

  const killListeners = () =>
    sql`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and application_name = ${LISTEN_APPLICATION_NAME}`.execute(
      database.db,
    );

  test('a killed connection: every subscriber hears lost, then restored on a new connection', async () => {
    const h = await open();
    const [a, b, c] = [subscriber(), subscriber(), subscriber()];
    try {
      const stopA = await h.listen('pb_one', a.onNotify, a.events);
      await h.listen('pb_one', b.onNotify, b.events);
      await h.listen('pb_two', c.onNotify, c.events);
      await killListeners();
      await eventually(() => a.lost() + b.lost() + c.lost() === 3, 'lost for every subscriber');
      // The listener connects again by itself and the same subscriptions hear notices again.
      await eventually(
        () => a.restored() + b.restored() + c.restored() === 3,
        'restored for every subscriber',
      );
      assert.deepEqual(
        [a.lost(), b.lost(), c.lost(), a.restored(), b.restored(), c.restored()],
        [1, 1, 1, 1, 1, 1],
      );
      assert.equal(await listeners(), 1);
      await notify('pb_one', 'one');
      await notify('pb_two', 'two');
      await eventually(
        () => a.heard.length + b.heard.length + c.heard.length === 3,
        'notices after the loss',
      );
      assert.deepEqual([a.heard, b.heard, c.heard], [['one'], ['one'], ['two']]);

      // A subscriber added now shares the new connection, and stops work as before.
      const d = subscriber();
      const stopD = await h.listen('pb_two', d.onNotify, d.events);
      assert.equal(await listeners(), 1);
      await stopA();
      await notify('pb_one', 'b only');
      await eventually(() => b.heard.length === 2, 'the notice to the remaining subscriber');
      assert.deepEqual(a.heard, ['one']);
      assert.equal(d.lost() + d.restored(), 0);
      await stopD();
      assert.equal(await listeners(), 1, 'b and c still listen');
    } finally {
      await h.close();
    }
    await eventually(async () => (await listeners()) === 0, 'the connection closing with the handle');
  });

  test('while the database refuses connections the listener keeps trying, and restores when it can', async () => {
    const name = database.url ? new URL(database.url).pathname.slice(1) : '';
    const listener = createPostgresListener(database.url!, { firstMs: 20, maxMs: 100 });
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    const s = subscriber();
    try {
      await listener.listen('pb_one', s.onNotify, s.events);
      await admin.query(`alter database ${pg.escapeIdentifier(name)} allow_connections false`);
      await killListeners();
      await eventually(() => s.lost() === 1, 'lost');
      // Several attempts fail meanwhile (20, 40, 80, 100… ms apart).
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(s.restored(), 0, 'not restored while connections are refused');
      assert.equal(await listeners(), 0);
      await admin.query(`alter database ${pg.escapeIdentifier(name)} allow_connections true`);
      await eventually(() => s.restored() === 1, 'restored once connections are allowed');
      await notify('pb_one', 'back');
      await eventually(() => s.heard.length === 1, 'a notice after restoring');
      assert.equal(s.lost(), 1);
    } finally {
      await admin.query(`alter database ${pg.escapeIdentifier(name)} allow_connections true`);
      await admin.end();
      await listener.close();
    }
    await eventually(async () => (await listeners()) === 0, 'the connection closing with the listener');
  });

  test('caches turn off when the connection is lost and back on, empty, when the listener restores', async () => {
    const h = await open();
    const stop = await startDataCaches(h.db, h.listen);
    try {
      const before = cachesOf(h.db);
      assert.ok(before, 'caching is on');
      await before.apiKeys.load('key-hash', async () => ({ project: 'p' }) as never);
      await killListeners();
      await eventually(() => cachesOf(h.db) === undefined, 'caching off while nothing listens');
      await eventually(() => cachesOf(h.db) !== undefined, 'caching on again once listening');
      const after = cachesOf(h.db)!;
      assert.equal(after.apiKeys.get('key-hash'), undefined, 'what was cached before the loss is gone');
      // And invalidations arrive again: a notice drops an entry cached after the restore.
      await after.apiKeys.load('key-hash', async () => ({ project: 'p' }) as never);
      await notify(CACHE_CHANNEL, 'k:key-hash');
      await eventually(() => after.apiKeys.get('key-hash') === undefined, 'the notice after restoring');
    } finally {
      await stop();
      await h.close();
    }
    assert.equal(cachesOf(h.db), undefined, 'stopped caches stay off');
  });

  test('closing the handle ends the connection, also one still being opened', async () => {
    const h = await open();
    const s = subscriber();
    await h.listen('pb_one', s.onNotify, s.events);
    assert.equal(await listeners(), 1);
    await h.close();
    await eventually(async () => (await listeners()) === 0, 'the connection closing with the handle');
    assert.equal(s.lost(), 0, 'closing is no loss');

    const h2 = await open();
    const pending = h2.listen('pb_one', s.onNotify, s.events);
    await h2.close();
    await assert.rejects(pending, /closed/);
    await assert.rejects(h2.listen('pb_one', s.onNotify), /closed/);
    await eventually(async () => (await listeners()) === 0, 'no connection left after close');
  });

  test('a failed connect rejects every waiting call, and the next call tries again', async () => {
    // A database that does not exist yet: connecting fails until it is created.
    const name = `plugboard_test_${randomBytes(6).toString('hex')}`;
    const url = new URL(databaseUrl!);
    url.pathname = `/${name}`;
    const listener = createPostgresListener(url.toString());
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      const s = subscriber();
      const results = await Promise.allSettled([
        listener.listen('pb_one', s.onNotify),
        listener.listen('pb_two', s.onNotify),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'rejected'],
      );
      await admin.query(`create database ${name}`);
      await listener.listen('pb_one', s.onNotify);
      // NOTIFY is per database: send it in the new one.
      const inside = new pg.Client({ connectionString: url.toString() });
      await inside.connect();
      await inside.query(`select pg_notify('pb_one', 'hello')`);
      await inside.end();
      await eventually(() => s.heard.length === 1, 'a notice after the retry');
    } finally {
      await listener.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });

  test('plugboard serve (caches, key ring, webhook worker) holds one listening connection', async () => {
    const server = await startServer(
      loadConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: database.url,
        PLUGBOARD_MASTER_KEY: randomBytes(32).toString('hex'),
        PLUGBOARD_HEAP_GROWTH_PERCENT: '0',
        PLUGBOARD_REFRESH_WORKER: 'false',
        LOG_LEVEL: 'silent',
      }),
      () => {},
    );
    try {
      assert.equal(await listeners(), 1);
    } finally {
      await server.close();
    }
    await eventually(async () => (await listeners()) === 0, 'the connection closing with the server');
  });
});
