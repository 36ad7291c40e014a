import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { openVault } from '../src/crypto/vault.ts';
import { openDatabase } from '../src/db/database.ts';
import { startDispatcher } from '../src/webhooks/dispatcher.ts';
import { bin } from './support/cli.ts';
import { createSession } from './support/connect.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';
import { startWebhookReceiver } from './support/webhook-receiver.ts';

const postgres = !!process.env.DATABASE_URL;
const WORKER_ENV = {
  PLUGBOARD_WEBHOOK_ALLOWED_RANGES: 'loopback',
  PLUGBOARD_WEBHOOK_TIMEOUT_MS: '1000',
  PLUGBOARD_WEBHOOK_RETRY_BASE_MS: '20',
  PLUGBOARD_WEBHOOK_POLL_MS: '50',
};

/** Several worker processes only make sense on PostgreSQL: PGlite is one process by design. */
describe('webhook workers on one PostgreSQL', { skip: !postgres && 'needs DATABASE_URL' }, () => {
  let server: TestServer;
  let key: string;
  const children: ChildProcess[] = [];

  before(async () => {
    // No worker inside the API process: the workers under test do all the delivering.
    server = await startTestServer('postgres', WORKER_ENV);
    key = (await server.newProject()).api_key;
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await server.close();
  });

  function startWorker(): ChildProcess {
    const child = spawn(process.execPath, [bin, 'worker'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: server.database.url,
        PLUGBOARD_MASTER_KEY: server.masterKey.toString('hex'),
        PLUGBOARD_WEBHOOK_CONCURRENCY: '5',
        LOG_LEVEL: 'warn',
        ...WORKER_ENV,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    return child;
  }

  async function createSessions(owner: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++)
      ids.push(String((await createSession(server, key, { origin_owner_id: `${owner}-${i}` })).id));
    return ids;
  }

  /** The endpoint's deliveries once none is pending any more (or the deadline passed). */
  async function settled(endpointId: string, expected: number) {
    const read = () =>
      server.database.db
        .selectFrom('webhook_deliveries')
        .select(['status', 'attempts'])
        .where('endpoint_id', '=', endpointId)
        .execute();
    let rows = await read();
    for (let i = 0; i < 200 && (rows.length < expected || rows.some((d) => d.status === 'pending')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      rows = await read();
    }
    return rows;
  }

  test('a worker killed mid-delivery loses nothing: a restarted worker delivers everything pending', async () => {
    let hold = true;
    const receiver = await startWebhookReceiver(async () => {
      // Held open while the first worker is alive, so it dies with deliveries in flight.
      while (hold) await new Promise((r) => setTimeout(r, 20));
      return 204;
    });
    try {
      const endpoint = await call(server, 'POST', '/webhook_endpoints', { key, body: { url: receiver.url } });
      assert.equal(endpoint.status, 201);
      const ids = await createSessions('killed', 20);

      const first = startWorker();
      await receiver.waitFor((r) => r.length >= 5, 30_000);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      const inFlight = receiver.received.length;
      hold = false;

      const second = startWorker();
      // The killed worker's claims come back once their lease ends; the rest are delivered at once.
      await receiver.waitFor((r) => ids.every((id) => r.some((h) => h.json?.record_id === id)), 60_000);
      const deliveries = await settled(endpoint.body.id, 20);
      assert.ok(
        deliveries.every((d) => d.status === 'succeeded'),
        JSON.stringify(deliveries),
      );
      // Exactly the sends cut off by the kill (the worker's whole pool) were made a second time.
      assert.equal(inFlight, 5);
      assert.equal(deliveries.filter((d) => d.attempts === 2).length, inFlight);
      assert.equal(deliveries.filter((d) => d.attempts === 1).length, 20 - inFlight);

      // A worker stops cleanly on SIGTERM.
      second.kill('SIGTERM');
      const code = await new Promise((resolve) => second.once('exit', resolve));
      assert.equal(code, 0);
    } finally {
      hold = false;
      await receiver.close();
    }
  });

  test('two workers never send the same delivery at the same time, and each event once', async () => {
    const active = new Map<string, number>();
    let overlaps = 0;
    const receiver = await startWebhookReceiver(async (hook) => {
      const id = String(hook.headers['webhook-id']);
      const n = (active.get(id) ?? 0) + 1;
      active.set(id, n);
      if (n > 1) overlaps++;
      await new Promise((r) => setTimeout(r, Math.random() * 15));
      active.set(id, (active.get(id) ?? 1) - 1);
      return 200;
    });
    const config = loadConfig({ ...WORKER_ENV, PLUGBOARD_WEBHOOK_CONCURRENCY: '8' }).webhooks;
    const pools = await Promise.all(
      [0, 1].map(() => openDatabase({ databaseUrl: server.database.url, dataDir: 'memory', poolSize: 4 })),
    );
    try {
      const endpoint = await call(server, 'POST', '/webhook_endpoints', { key, body: { url: receiver.url } });
      const ids = await createSessions('pair', 120);
      const workers = await Promise.all(
        pools.map(async (handle) =>
          startDispatcher({
            db: handle.db,
            vault: await openVault(handle.db, server.masterKey),
            config,
            listen: handle.listen,
          }),
        ),
      );
      try {
        await receiver.waitFor((r) => ids.every((id) => r.some((h) => h.json?.record_id === id)), 60_000);
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
      assert.equal(overlaps, 0, 'no delivery was in flight twice at once');
      const perEvent = new Map<string, number>();
      for (const hook of receiver.received) {
        const id = String(hook.headers['webhook-id']);
        perEvent.set(id, (perEvent.get(id) ?? 0) + 1);
      }
      assert.equal(perEvent.size, 120);
      assert.deepEqual(
        [...perEvent.values()].filter((n) => n !== 1),
        [],
        'each event delivered exactly once',
      );
      const attempts = await server.database.db
        .selectFrom('webhook_delivery_attempts')
        .innerJoin('webhook_deliveries', 'webhook_deliveries.id', 'webhook_delivery_attempts.delivery_id')
        .select('webhook_delivery_attempts.attempt')
        .where('webhook_deliveries.endpoint_id', '=', endpoint.body.id)
        .execute();
      assert.equal(attempts.length, 120);
      assert.ok(attempts.every((a) => a.attempt === 1));
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      await receiver.close();
    }
  });
});
