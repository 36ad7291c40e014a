import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { groupCommit } from '../src/db/group-commit.ts';
import { webhookPolicy } from '../src/outbound/address-policy.ts';
import type { ConnectSessionCreate } from '../src/schemas/connect-sessions.ts';
import { createConnectSession, type SessionDeps } from '../src/services/connect-sessions.ts';
import type { ProjectContext } from '../src/services/tenancy.ts';
import { backends } from './support/backends.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';
import { WEBHOOK_ENV } from './support/webhooks.ts';

// Concurrent creates are written together (group commit, src/db/group-commit.ts). Which transaction
// wrote a row is PostgreSQL's own record, its xmin: no test hook is needed to count transactions.

/** A write that refuses any batch holding a negative number, and logs every batch it is given. */
function fakeWrite(calls: number[][], running = { now: 0, most: 0 }) {
  return async (inputs: number[]) => {
    calls.push(inputs);
    running.most = Math.max(running.most, ++running.now);
    await new Promise((resolve) => setTimeout(resolve, 5));
    running.now--;
    if (inputs.some((n) => n < 0)) throw new Error(`refused ${inputs.find((n) => n < 0)}`);
    return inputs.map((n) => n * 10);
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('group commit', () => {
  test('calls of one event-loop turn are written together, later ones in the next batch, capped', async () => {
    const calls: number[][] = [];
    const submit = groupCommit(fakeWrite(calls), { maxBatch: 4, concurrency: 1 });
    assert.equal(await submit(1), 10);
    assert.deepEqual(calls, [[1]], 'a lone call is written alone');
    const first = [2, 3].map(submit);
    await nextTurn(); // [2, 3] is being written: the next calls wait for it
    const later = [4, 5, 6, 7, 8, 9].map(submit);
    assert.deepEqual(await Promise.all([...first, ...later]), [20, 30, 40, 50, 60, 70, 80, 90]);
    assert.deepEqual(calls.slice(1), [
      [2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  test('a refused batch is written again one by one: only the faulty call fails', async () => {
    const calls: number[][] = [];
    const submit = groupCommit(fakeWrite(calls), { maxBatch: 10, concurrency: 1 });
    const results = await Promise.allSettled([1, 2, -3, 4].map(submit));
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
      [10, 20, 'refused -3', 40],
    );
    assert.deepEqual(calls, [[1, 2, -3, 4], [1], [2], [-3], [4]]);
  });

  test('up to `concurrency` writes run side by side before calls wait', async () => {
    const calls: number[][] = [];
    const running = { now: 0, most: 0 };
    const submit = groupCommit(fakeWrite(calls, running), { maxBatch: 10, concurrency: 2 });
    const pending = [submit(1), submit(2)];
    await nextTurn();
    pending.push(submit(3), submit(4));
    await nextTurn();
    pending.push(submit(5), submit(6));
    assert.deepEqual(await Promise.all(pending), [10, 20, 30, 40, 50, 60]);
    assert.deepEqual(calls, [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    assert.equal(running.most, 2);
  });
});

for (const backend of backends()) {
  describe(`concurrent connect session creates (${backend})`, () => {
    let server: TestServer;
    let keyA: string;
    let keyB: string;
    let projectA: string;
    let projectB: string;
    const endpoints = { all: '', sessions: '', accounts: '' };

    before(async () => {
      server = await startTestServer(backend, WEBHOOK_ENV);
      const a = await server.newProject('A');
      const b = await server.newProject('B');
      [keyA, keyB, projectA, projectB] = [a.api_key, b.api_key, a.project_id, b.project_id];
      // Project A: two endpoints take connect_session.created, one does not; project B has none.
      for (const [name, events] of [
        ['all', undefined],
        ['sessions', ['connect_session.created']],
        ['accounts', ['account.created']],
      ] as const) {
        const res = await call(server, 'POST', '/webhook_endpoints', {
          key: keyA,
          body: { url: `http://127.0.0.1:9/${name}`, ...(events ? { events } : {}) },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        endpoints[name] = res.body.id;
      }
    });
    after(() => server.close());

    /** Which transaction wrote each row about these sessions: PostgreSQL's own xmin. */
    const SESSION_ID = {
      connect_sessions: sql`id::text`,
      audit_log: sql`target_id`,
      webhook_events: sql`payload->>'record_id'`,
    };
    const txOf = async (table: keyof typeof SESSION_ID, ids: string[]) => {
      const id = SESSION_ID[table];
      const { rows } = await sql<{ id: string; tx: string }>`
        select ${id} as id, xmin::text as tx from ${sql.table(table)} where ${id} in (${sql.join(ids)})
      `.execute(server.database.db);
      return rows;
    };

    test('50 creates at once: every session, event, delivery and audit entry, in fewer transactions', async () => {
      const bodies = Array.from({ length: 50 }, (_, i) => ({
        key: i < 30 ? keyA : keyB,
        body: {
          origin_owner_id: `owner-${i}`,
          origin_owner_name: `Owner ${i}`,
          metadata: { i },
          // Some of A's sessions send their events to their own URL: one delivery instead of two.
          ...(i < 10 ? { webhook_url: `http://127.0.0.1:9/session-${i}` } : {}),
        },
      }));
      // Refused before they can join a batch: a bad body and an unknown integration.
      const refused = [
        { key: keyA, body: { origin_owner_id: '', origin_owner_name: 'x' } },
        {
          key: keyB,
          body: { origin_owner_id: 'o', origin_owner_name: 'x', integration_id: crypto.randomUUID() },
        },
      ];
      const responses = await Promise.all(
        [...bodies.slice(0, 25), ...refused, ...bodies.slice(25)].map(({ key, body }) =>
          server.app.inject({
            method: 'POST',
            url: '/connect_sessions',
            headers: { authorization: `Bearer ${key}` },
            payload: body,
          }),
        ),
      );
      assert.deepEqual(
        responses.map((r) => r.statusCode),
        [...Array(25).fill(201), 400, 404, ...Array(25).fill(201)],
      );
      const created = responses.filter((r) => r.statusCode === 201).map((r) => r.json());
      const ids = created.map((s) => String(s.id));
      assert.equal(new Set(ids).size, 50, 'distinct ids');
      assert.equal(new Set(created.map((s) => s.token)).size, 50, 'distinct tokens');
      created.forEach((s, i) => {
        assert.equal(s.origin_owner_id, `owner-${i}`, 'each caller gets its own row');
        assert.deepEqual(s.metadata, { i });
        assert.equal(s.project_id, i < 30 ? projectA : projectB);
      });
      // A token written in a batch works like any other.
      const auth = await call(server, 'POST', '/connect_sessions/authenticate', {
        key: keyB,
        body: { token: created[40].token },
      });
      assert.equal(auth.status, 201);
      assert.equal(auth.body.origin_owner_id, 'owner-40');

      const sessions = await txOf('connect_sessions', ids);
      const audits = await txOf('audit_log', ids);
      const events = await txOf('webhook_events', ids);
      assert.equal(sessions.length, 50);
      assert.deepEqual(audits.map((a) => a.id).sort(), [...ids].sort(), 'one audit entry per session');
      assert.deepEqual(
        events.map((e) => e.id).sort(),
        ids.slice(0, 30).sort(),
        "one event per session of A, none for B's",
      );
      // Each session's audit entry and event were written in the session's own transaction.
      const txBySession = new Map(sessions.map((s) => [s.id, s.tx]));
      for (const row of [...audits, ...events]) assert.equal(row.tx, txBySession.get(row.id));
      const transactions = new Set(sessions.map((s) => s.tx)).size;
      assert.ok(transactions < 25, `50 sessions in ${transactions} transactions`);

      const deliveries = await server.database.db
        .selectFrom('webhook_deliveries')
        .innerJoin('webhook_events', 'webhook_events.id', 'webhook_deliveries.event_id')
        .select([
          sql<string>`webhook_events.payload->>'record_id'`.as('session'),
          'webhook_deliveries.endpoint_id',
          'webhook_deliveries.url_override',
        ])
        .where(sql<string>`webhook_events.payload->>'record_id'`, 'in', ids)
        .execute();
      created.slice(0, 30).forEach((s, i) => {
        const mine = deliveries.filter((d) => d.session === String(s.id));
        const expected =
          i < 10
            ? [{ endpoint_id: endpoints.all, url_override: `http://127.0.0.1:9/session-${i}` }]
            : [
                { endpoint_id: endpoints.all, url_override: null },
                { endpoint_id: endpoints.sessions, url_override: null },
              ];
        const byEndpoint = (x: { endpoint_id: string }, y: { endpoint_id: string }) =>
          x.endpoint_id.localeCompare(y.endpoint_id);
        assert.deepEqual(
          mine.map(({ endpoint_id, url_override }) => ({ endpoint_id, url_override })).sort(byEndpoint),
          expected.sort(byEndpoint),
        );
      });
    });

    test('a batch with one input the database refuses fails that create only', async () => {
      const db = server.database.db;
      const deps: SessionDeps = {
        db,
        catalogue: server.catalogue,
        publicUrl: server.url,
        webhookPolicy: webhookPolicy(['loopback']),
      };
      const project: ProjectContext = {
        organizationId: (
          await db
            .selectFrom('projects')
            .select('organization_id')
            .where('id', '=', projectA)
            .executeTakeFirstOrThrow()
        ).organization_id as number,
        projectId: projectA,
        apiKeyId: 'test',
      };
      const count = async (table: 'connect_sessions' | 'audit_log' | 'webhook_events') =>
        Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<string>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await Promise.all([
        count('connect_sessions'),
        count('audit_log'),
        count('webhook_events'),
      ]);
      // The HTTP schema refuses NUL; called directly, the database is the one to refuse it.
      const inputs: ConnectSessionCreate[] = Array.from({ length: 20 }, (_, i) => ({
        origin_owner_id: `direct-${i}`,
        origin_owner_name: i === 10 ? 'bad\u0000name' : 'Direct',
      }));
      const results = await Promise.allSettled(
        inputs.map((input) => createConnectSession(deps, project, input)),
      );
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[i, r.reason]] : []));
      assert.equal(failed.length, 1);
      assert.equal(failed[0]![0], 10);
      // SQLSTATE class 22 (data exception): the HTTP error handler answers it with a 400.
      assert.match(String((failed[0]![1] as { code?: string }).code), /^22/);
      const after = await Promise.all([
        count('connect_sessions'),
        count('audit_log'),
        count('webhook_events'),
      ]);
      assert.deepEqual(after, [before[0]! + 19, before[1]! + 19, before[2]! + 19], 'nothing of the bad one');
      const owners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.origin_owner_id] : []));
      assert.deepEqual(
        owners,
        inputs.filter((_, i) => i !== 10).map((i) => i.origin_owner_id),
      );
    });
  });
}
