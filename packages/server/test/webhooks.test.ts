import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { pruneEvents } from '../src/webhooks/dispatcher.ts';
import { recordEvent } from '../src/webhooks/events.ts';
import { backends } from './support/backends.ts';
import {
  connectAttio,
  createSession,
  enableAttio,
  hubCall,
  startAcceptingProvider,
} from './support/connect.ts';
import type { FakeProvider } from './support/fake-provider.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from './support/webhook-receiver.ts';
import { stackOneSignature, verify, WEBHOOK_ENV } from './support/webhooks.ts';

// What is delivered and how: the events a change emits, their payloads and signatures, retries, replays
// and pruning. Managing endpoints (CRUD, URL checks, secret rotation) is in webhook-endpoints.test.ts.

for (const backend of backends()) {
  describe(`webhooks (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    let receiver: WebhookReceiver;
    let key: string;
    let projectId: string;
    let integration: string;

    before(async () => {
      provider = await startAcceptingProvider();
      receiver = await startWebhookReceiver();
      server = await startTestServer(backend, WEBHOOK_ENV, { webhooks: true });
      const project = await server.newProject();
      key = project.api_key;
      projectId = project.project_id;
      integration = await enableAttio(server, key, provider);
    });
    after(async () => {
      await server.close();
      await receiver.close();
      await provider.close();
    });

    async function addEndpoint(body: Record<string, unknown>, apiKey = key) {
      const res = await call(server, 'POST', '/webhook_endpoints', { key: apiKey, body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; secret: string; url: string };
    }

    const eventsFor = (id: string, type?: string) => (r: ReceivedWebhook[]) =>
      r.filter((h) => h.json?.record_id === id && (!type || h.json.event === type));

    test('every event of a connect journey arrives signed, with the reference payload', async () => {
      const endpoint = await addEndpoint({ url: receiver.url });
      const session = await createSession(server, key, {
        origin_owner_id: 'journey',
        origin_owner_name: 'Journey Ltd',
        origin_username: 'jo@journey.test',
        provider: 'attio',
      });
      const connected = await hubCall(server, session.token, 'POST', '/hub/accounts', {
        integration_id: integration,
        credentials: { access_token: 'good-journey-token' },
      });
      assert.equal(connected.status, 201);
      const accountId = connected.body.id as string;
      const again = await createSession(server, key, {
        origin_owner_id: 'journey',
        origin_owner_name: 'Journey Ltd',
        provider: 'attio',
        account_id: accountId,
      });
      await hubCall(server, again.token, 'POST', '/hub/accounts', {
        integration_id: integration,
        credentials: { access_token: 'good-journey-token-2' },
      });
      await call(server, 'PATCH', `/accounts/${accountId}`, { key, body: { label: 'Renamed' } });
      await call(server, 'DELETE', `/accounts/${accountId}`, { key });

      const hooks = await receiver.waitFor(
        (r) => eventsFor(accountId)(r).length >= 4 && eventsFor(String(again.id))(r).length >= 1,
      );
      const account = eventsFor(accountId)(hooks);
      assert.deepEqual(
        account.map((h) => h.json.event),
        ['account.created', 'account.updated', 'account.updated', 'account.deleted'],
      );
      const created = account[0]!.json;
      assert.equal(created.project_id, projectId);
      assert.equal(created.record_type, 'account');
      assert.equal(created.record_id, accountId);
      assert.equal(created.account_id, accountId);
      assert.equal(created.provider, 'attio');
      assert.equal(created.origin_owner_id, 'journey');
      assert.equal(created.origin_owner_name, 'Journey Ltd');
      assert.equal(created.origin_username, 'jo@journey.test');
      assert.deepEqual(created.setup_information, {});
      assert.ok(!Number.isNaN(Date.parse(created.event_date)));
      assert.equal(account[2]!.json.label, 'Renamed');

      const sessionEvent = eventsFor(String(session.id), 'connect_session.created')(hooks)[0]!.json;
      assert.equal(sessionEvent.connect_session_id, session.id);
      assert.equal(sessionEvent.provider, 'attio');
      assert.equal(sessionEvent.token, undefined, 'no session token in events');

      const mine = hooks.filter((h) =>
        [accountId, String(session.id), String(again.id)].includes(h.json?.record_id),
      );
      for (const hook of mine) {
        assert.deepEqual(verify(hook, endpoint.secret), hook.json);
        assert.equal(hook.headers['webhook-id'], hook.json.id);
        assert.equal(hook.headers['x-stackone-signature'], stackOneSignature(hook.body, endpoint.secret));
        assert.equal(hook.headers['content-type'], 'application/json');
      }
      assert.equal(new Set(mine.map((h) => h.json.id)).size, mine.length, 'every event has its own id');
      assert.ok(!mine.some((h) => h.body.includes('good-journey-token')), 'no credentials in events');

      const log = await call(server, 'GET', `/webhook_endpoints/${endpoint.id}/deliveries?status=succeeded`, {
        key,
      });
      assert.equal(log.status, 200);
      assert.ok(log.body.total >= mine.length);
      assert.ok(
        log.body.data.every(
          (d: { attempts: number; last_status_code: number }) => d.last_status_code === 204,
        ),
      );
      await call(server, 'DELETE', `/webhook_endpoints/${endpoint.id}`, { key });
    });

    test('a receiver failing three times gets the event delivered once, with every try logged', async () => {
      let failures = 0;
      const flaky = await startWebhookReceiver((hook) =>
        hook.json?.event === 'connect_session.created' && failures++ < 3 ? 503 : 200,
      );
      try {
        const endpoint = await addEndpoint({ url: flaky.url, events: ['connect_session.created'] });
        const session = await createSession(server, key, { origin_owner_id: 'flaky' });
        const hooks = await flaky.waitFor((r) => r.length >= 4);
        assert.equal(hooks.length, 4);
        assert.equal(new Set(hooks.map((h) => h.headers['webhook-id'])).size, 1, 'retries keep the event id');
        for (const hook of hooks) verify(hook, endpoint.secret);
        assert.equal(hooks[3]!.json.record_id, String(session.id));

        let delivery: { id: string; status: string; attempts: number } | undefined;
        for (let i = 0; i < 100 && delivery?.status !== 'succeeded'; i++) {
          const list = await call(server, 'GET', `/webhook_endpoints/${endpoint.id}/deliveries`, { key });
          delivery = list.body.data[0];
          if (delivery?.status !== 'succeeded') await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(delivery?.status, 'succeeded');
        assert.equal(delivery?.attempts, 4);
        const detail = await call(
          server,
          'GET',
          `/webhook_endpoints/${endpoint.id}/deliveries/${delivery!.id}`,
          {
            key,
          },
        );
        assert.deepEqual(
          detail.body.log.map((a: { attempt: number; status_code: number }) => [a.attempt, a.status_code]),
          [
            [1, 503],
            [2, 503],
            [3, 503],
            [4, 200],
          ],
        );
        assert.equal(detail.body.log[0].error, 'HTTP 503');
        assert.equal(detail.body.payload.event, 'connect_session.created');

        // Manual replay: a new delivery of the same event, the original left as it was.
        const replay = await call(
          server,
          'POST',
          `/webhook_endpoints/${endpoint.id}/deliveries/${delivery!.id}/replay`,
          { key },
        );
        assert.equal(replay.status, 202, JSON.stringify(replay.body));
        assert.equal(replay.body.replay_of, delivery!.id);
        assert.equal(replay.body.status, 'pending');
        const afterReplay = await flaky.waitFor((r) => r.length >= 5);
        assert.equal(afterReplay[4]!.headers['webhook-id'], hooks[0]!.headers['webhook-id']);
        await call(server, 'DELETE', `/webhook_endpoints/${endpoint.id}`, { key });
      } finally {
        await flaky.close();
      }
    });

    test('a delivery that keeps failing is marked failed after the last try', async () => {
      const down = await startWebhookReceiver(() => 500);
      const limited = await startTestServer(
        backend,
        { ...WEBHOOK_ENV, PLUGBOARD_WEBHOOK_MAX_ATTEMPTS: '3' },
        { webhooks: true },
      );
      try {
        const k = (await limited.newProject()).api_key;
        const res = await call(limited, 'POST', '/webhook_endpoints', { key: k, body: { url: down.url } });
        await call(limited, 'POST', '/connect_sessions', {
          key: k,
          body: { origin_owner_id: 'x', origin_owner_name: 'X' },
        });
        await down.waitFor((r) => r.length >= 3);
        let status = '';
        for (let i = 0; i < 100 && status !== 'failed'; i++) {
          const list = await call(limited, 'GET', `/webhook_endpoints/${res.body.id}/deliveries`, { key: k });
          status = list.body.data[0]?.status;
          if (status !== 'failed') await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(status, 'failed');
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(down.received.length, 3, 'no try after the last one');
      } finally {
        await limited.close();
        await down.close();
      }
    });

    test('queued retries follow an endpoint whose URL was fixed', async () => {
      const broken = await startWebhookReceiver(() => 500);
      const fixed = await startWebhookReceiver();
      try {
        const endpoint = await addEndpoint({ url: broken.url, events: ['connect_session.created'] });
        const session = await createSession(server, key, { origin_owner_id: 'moved' });
        await broken.waitFor((r) => r.length >= 1);
        const patched = await call(server, 'PATCH', `/webhook_endpoints/${endpoint.id}`, {
          key,
          body: { url: fixed.url },
        });
        assert.equal(patched.status, 200);
        const [hook] = await fixed.waitFor((r) => r.length >= 1);
        assert.equal(hook!.json.record_id, String(session.id));
        const list = await call(server, 'GET', `/webhook_endpoints/${endpoint.id}/deliveries`, { key });
        assert.equal(list.body.data[0].url, fixed.url);
        await call(server, 'DELETE', `/webhook_endpoints/${endpoint.id}`, { key });
      } finally {
        await broken.close();
        await fixed.close();
      }
    });

    test("a session's webhook_url receives the events it causes instead of the endpoint", async () => {
      const main = await startWebhookReceiver();
      const perSession = await startWebhookReceiver();
      try {
        const endpoint = await addEndpoint({
          url: main.url,
          events: ['connect_session.created', 'account.created'],
        });
        const session = await createSession(server, key, {
          origin_owner_id: 'override',
          provider: 'attio',
          webhook_url: perSession.url,
        });
        const connected = await hubCall(server, session.token, 'POST', '/hub/accounts', {
          integration_id: integration,
          credentials: { access_token: 'good-override' },
        });
        assert.equal(connected.status, 201);
        const plain = await createSession(server, key, { origin_owner_id: 'no-override' });
        const hooks = await perSession.waitFor((r) => r.length >= 2);
        assert.deepEqual(hooks.map((h) => h.json.event).sort(), [
          'account.created',
          'connect_session.created',
        ]);
        for (const hook of hooks) verify(hook, endpoint.secret);
        const mainHooks = await main.waitFor((r) => r.length >= 1);
        assert.deepEqual(
          mainHooks.map((h) => h.json.record_id),
          [String(plain.id)],
          'the endpoint URL only got the event of the session without override',
        );
        await call(server, 'DELETE', `/webhook_endpoints/${endpoint.id}`, { key });
      } finally {
        await main.close();
        await perSession.close();
      }
    });

    test('old events are pruned with their log once nothing is pending for them', async () => {
      const db = server.database.db;
      // Disabled, and the pending delivery is not due: the worker leaves both alone.
      const endpoint = await addEndpoint({ url: receiver.url, enabled: false });
      const ids = ['old-done', 'old-pending', 'recent'].map((name) => `evt_prune_${name}_${backend}`);
      await db
        .insertInto('webhook_events')
        .values(ids.map((id) => ({ id, project_id: projectId, type: 'account.updated', payload: '{}' })))
        .execute();
      await db
        .insertInto('webhook_deliveries')
        .values([
          {
            id: `whd_${ids[0]}`,
            event_id: ids[0]!,
            endpoint_id: endpoint.id,
            status: 'succeeded',
          },
          {
            id: `whd_${ids[1]}`,
            event_id: ids[1]!,
            endpoint_id: endpoint.id,
            status: 'pending',
            next_attempt_at: new Date(Date.now() + 3600_000),
          },
        ])
        .execute();
      await db
        .updateTable('webhook_events')
        .set({ created_at: sql`now() - interval '40 days'` as never })
        .where('id', 'in', [ids[0]!, ids[1]!])
        .execute();
      assert.equal(await pruneEvents(db, 30), 1);
      const left = await db.selectFrom('webhook_events').select('id').where('id', 'in', ids).execute();
      assert.deepEqual(left.map((r) => r.id).sort(), [ids[1], ids[2]].sort());
      const deliveries = await db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('event_id', '=', ids[0]!)
        .execute();
      assert.equal(deliveries.length, 0, 'deliveries went with their event');
      await call(server, 'DELETE', `/webhook_endpoints/${endpoint.id}`, { key });
    });

    test('a change that fails or rolls back emits nothing', async () => {
      const quiet = await startWebhookReceiver();
      try {
        const endpoint = await addEndpoint({ url: quiet.url });
        const accountId = await connectAttio(server, key, integration, { origin_owner_id: 'rollback' });
        await quiet.waitFor((r) => r.some((h) => h.json.event === 'account.created'));
        const before = quiet.received.length;
        const eventsBefore = await server.database.db
          .selectFrom('webhook_events')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow();

        // Refused by the API: nothing changes, nothing is emitted.
        const refused = await call(server, 'PATCH', `/accounts/${accountId}`, {
          key,
          body: { provider: 'hubspot' },
        });
        assert.equal(refused.status, 400);
        const badKey = await createSession(server, key, { origin_owner_id: 'rollback-2', provider: 'attio' });
        const rejected = await hubCall(server, badKey.token, 'POST', '/hub/accounts', {
          integration_id: integration,
          credentials: { access_token: 'bad-token' },
        });
        assert.equal(rejected.status, 400);

        // A transaction that records an event and then fails leaves no event and no delivery.
        await assert.rejects(
          server.database.db.transaction().execute(async (tx) => {
            await recordEvent(tx, {
              projectId,
              type: 'account.updated',
              recordType: 'account',
              recordId: 'acc_rolled_back',
              data: {},
            });
            throw new Error('the change failed');
          }),
          /the change failed/,
        );
        const ghost = await server.database.db
          .selectFrom('webhook_events')
          .selectAll()
          .where('payload', '@>', JSON.stringify({ record_id: 'acc_rolled_back' }) as never)
          .execute();
        assert.equal(ghost.length, 0);

        // Only the session created above and the refused connect's failed attempt produced events (and
        // their deliveries) meanwhile: no account event for the refused change or the refused connect.
        const eventsAfter = await server.database.db
          .selectFrom('webhook_events')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow();
        assert.equal(Number(eventsAfter.n) - Number(eventsBefore.n), 2);
        await quiet.waitFor((r) => r.length >= before + 2);
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(
          quiet.received
            .slice(before)
            .map((h) => h.json.event)
            .sort(),
          ['connect_session.created', 'connection_attempt.failed'],
        );
        await call(server, 'DELETE', `/webhook_endpoints/${endpoint.id}`, { key });
      } finally {
        await quiet.close();
      }
    });
  });
}
