import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { githubSignature, useInboundStand } from './support/inbound.ts';
import { call } from './support/server.ts';
import { verify } from './support/webhooks.ts';

// A provider posts an event to the trigger URL an end user copied from the connect form; Plugboard
// checks the provider's signature as the connector file declares it and forwards the event to the
// integrator's endpoints as a signed account.provider_event. What is refused, and that it leaves no
// event behind, is in inbound-refusals.test.ts; the signature declarations in inbound-signatures.test.ts.

for (const backend of backends()) {
  describe(`inbound provider events (${backend})`, () => {
    const stand = useInboundStand(backend);
    const { connect, providerPosts, deliveryOf } = stand;

    test('a signed GitHub event arrives at the receiver as a signed account.provider_event', async () => {
      const { trigger, accountId } = await connect(stand.key, stand.integrations.github!, {
        access_token: 'good-github-pat-0123456789',
        webhook_secret: 'gh-webhook-secret-0123456789',
      });
      const body = JSON.stringify({ action: 'opened', issue: { number: 7, title: 'Inbound' } });
      const delivery = randomUUID();
      const res = await providerPosts(trigger, body, {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/abc123',
        'x-github-event': 'issues',
        'x-github-delivery': delivery,
        'x-hub-signature-256': githubSignature('gh-webhook-secret-0123456789', body),
        authorization: 'Bearer must-not-travel',
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.match(res.body.event_id, /^evt_/);

      const hook = await deliveryOf(delivery);
      verify(hook, stand.secrets.a!); // Standard Webhooks signature, checked by the standardwebhooks package
      const payload = hook.json;
      assert.equal(payload.id, res.body.event_id);
      assert.equal(payload.event, 'account.provider_event');
      assert.equal(payload.record_type, 'account');
      assert.equal(payload.account_id, accountId);
      assert.equal(payload.record_id, accountId);
      assert.equal(payload.provider, 'github');
      assert.equal(payload.origin_owner_name, 'Inbound Customer');
      assert.equal(payload.status, 'active');
      assert.deepEqual(payload.provider_event.body, JSON.parse(body));
      assert.equal(payload.provider_event.body_encoding, 'json');
      assert.equal(payload.provider_event.content_type, 'application/json');
      assert.equal(payload.provider_event.verified, true);
      assert.ok(!Number.isNaN(Date.parse(payload.provider_event.received_at)));
      assert.deepEqual(payload.provider_event.headers, {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/abc123',
        'x-github-event': 'issues',
        'x-github-delivery': delivery,
      });
      // Never the account's credentials, nor the caller's authorization or the provider's signature.
      for (const secret of [
        'good-github-pat-0123456789',
        'gh-webhook-secret-0123456789',
        'must-not-travel',
        trigger,
      ])
        assert.ok(!hook.body.includes(secret), `the delivery contains ${secret}`);
      // The trigger token is a credential of sorts: request logs show the route, not the token.
      assert.ok(stand.server.logs().includes('/webhooks/inbound/[redacted]'));
      assert.ok(!stand.server.logs().includes(trigger), 'the logs contain the trigger token');
    });

    test('a connector without a declared signature forwards events unverified, in any content type', async () => {
      const { trigger, accountId } = await connect(stand.key, stand.integrations.attio!, {
        access_token: 'good-attio-0123456789',
      });
      const sent = [
        {
          type: 'application/x-www-form-urlencoded',
          body: 'event=record.created&id=42',
          expect: 'event=record.created&id=42',
          encoding: 'text',
        },
        { type: 'text/plain; charset=utf-8', body: 'plain text ü', expect: 'plain text ü', encoding: 'text' },
        { type: 'application/json', body: '{"n":1}', expect: { n: 1 }, encoding: 'json' },
        { type: 'application/json; charset=utf-8', body: '{"n":', expect: '{"n":', encoding: 'text' },
        {
          type: 'application/cloudevents+json',
          body: '{"id":"ce-1"}',
          expect: { id: 'ce-1' },
          encoding: 'json',
        },
        {
          type: 'application/octet-stream',
          body: Buffer.from([0xff, 0x00, 0x01]),
          expect: '/wAB',
          encoding: 'base64',
        },
      ];
      for (const item of sent) {
        const res = await providerPosts(trigger, item.body, { 'content-type': item.type });
        assert.equal(res.status, 202, JSON.stringify(res.body));
      }
      // No body and no content type at all (a ping): forwarded too.
      assert.equal(
        (await fetch(`${stand.server.url}/webhooks/inbound/${trigger}`, { method: 'POST' })).status,
        202,
      );
      const hooks = await stand.receiver.waitFor(
        (r) => r.filter((h) => h.json?.account_id === accountId).length === sent.length + 1,
      );
      const mine = hooks.filter((h) => h.json?.account_id === accountId);
      for (const item of sent) {
        const hook = mine.find((h) => h.json.provider_event.content_type === item.type);
        assert.ok(hook, `no delivery for ${item.type}`);
        verify(hook, stand.secrets.a!);
        assert.deepEqual(hook.json.provider_event.body, item.expect);
        assert.equal(hook.json.provider_event.body_encoding, item.encoding);
        assert.equal(hook.json.provider_event.verified, false);
        assert.equal(hook.json.provider, 'attio');
      }
      const empty = mine.find((h) => h.json.provider_event.content_type === null);
      assert.deepEqual(
        { body: empty?.json.provider_event.body, encoding: empty?.json.provider_event.body_encoding },
        { body: null, encoding: 'none' },
      );
    });

    test('a GitHub account connected without a webhook secret forwards its events marked unverified', async () => {
      const { trigger } = await connect(stand.key, stand.integrations.github!, {
        access_token: 'good-github-pat-0123456789',
      });
      const delivery = randomUUID();
      const res = await providerPosts(trigger, '{"zen":"Keep it simple."}', {
        'content-type': 'application/json',
        'x-github-event': 'ping',
        'x-github-delivery': delivery,
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const hook = await deliveryOf(delivery);
      assert.equal(hook.json.provider_event.verified, false);
    });

    test("the token decides the project: one project's events never reach another's endpoints", async () => {
      const otherIntegration = await call(stand.server, 'POST', '/auth_configs', {
        key: stand.otherKey,
        body: { connector_key: 'attio', urls: { api_base_url: stand.provider.url } },
      });
      assert.equal(otherIntegration.status, 201);
      const ours = await connect(
        stand.key,
        stand.integrations.attio!,
        { access_token: 'good-attio-0123456789' },
        'shared-owner',
      );
      const theirs = await connect(
        stand.otherKey,
        otherIntegration.body.id,
        { access_token: 'good-attio-0123456789' },
        'shared-owner',
      );

      assert.equal(
        (await providerPosts(ours.trigger, '{"to":"A"}', { 'content-type': 'application/json' })).status,
        202,
      );
      assert.equal(
        (await providerPosts(theirs.trigger, '{"to":"B"}', { 'content-type': 'application/json' })).status,
        202,
      );
      const [theirHook] = await stand.otherReceiver
        .waitFor((r) => r.some((h) => h.json?.event === 'account.provider_event'))
        .then((r) => r.filter((h) => h.json?.event === 'account.provider_event'));
      verify(theirHook!, stand.secrets.b!);
      assert.equal(theirHook!.json.account_id, theirs.accountId);
      assert.deepEqual(theirHook!.json.provider_event.body, { to: 'B' });
      await stand.receiver.waitFor((r) => r.some((h) => h.json?.account_id === ours.accountId));

      // Deliveries are written with the event, so the outbox says exactly who was ever meant to get what.
      const otherDeliveries = await stand.server.database.db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
        .select(['e.payload'])
        .where('d.endpoint_id', '=', stand.otherEndpoint)
        .where('e.type', '=', 'account.provider_event')
        .execute();
      assert.deepEqual(
        otherDeliveries.map((d) => (d.payload as { account_id: string }).account_id),
        [theirs.accountId],
      );
      assert.ok(!stand.otherReceiver.received.some((h) => h.json?.account_id === ours.accountId));
    });
  });
}
