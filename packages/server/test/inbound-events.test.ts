import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connectorSchema } from '../src/connectors/schema.ts';
import { parseSignedTimestamp, verifySignature } from '../src/services/inbound/signature.ts';
import { backends } from './support/backends.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';
import { verify, WEBHOOK_ENV } from './support/webhooks.ts';

// A provider posts an event to the trigger URL an end user copied from the connect form; Plugboard
// checks the provider's signature as the connector file declares it and forwards the event to the
// integrator's endpoints as a signed account.provider_event. Everything refused leaves no event behind.

const githubSignature = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const zendeskSignature = (secret: string, timestamp: string, body: string) =>
  createHmac('sha256', secret)
    .update(timestamp + body)
    .digest('base64');

for (const backend of backends()) {
  describe(`inbound provider events (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    let receiver: WebhookReceiver;
    let otherReceiver: WebhookReceiver;
    let key: string;
    let otherKey: string;
    let otherEndpoint: string;
    const integrations: Record<string, string> = {};

    before(async () => {
      // The provider's API, for the credential checks of the connect form: anything but "bad" passes.
      provider = await startFakeProvider((req) =>
        /bad/.test(
          Buffer.from(req.headers.authorization?.split(' ')[1] ?? '', 'base64').toString() +
            req.headers.authorization,
        )
          ? { status: 401, body: { message: 'bad credentials' } }
          : { status: 200, body: { ok: true } },
      );
      receiver = await startWebhookReceiver();
      otherReceiver = await startWebhookReceiver();
      server = await startTestServer(
        backend,
        {
          ...WEBHOOK_ENV,
          // The throttle test below counts failures of one token; the address limit stays out of its way.
          PLUGBOARD_AUTH_FAILURES_PER_CREDENTIAL: '8',
          PLUGBOARD_AUTH_FAILURES_PER_ADDRESS: '1000',
        },
        { webhooks: true },
      );
      const project = await server.newProject('Inbound A');
      key = project.api_key;
      const other = await server.newProject('Inbound B');
      otherKey = other.api_key;
      for (const [connector, method] of [
        ['github', 'access_token'],
        ['zendesk', 'api_token'],
        ['attio', undefined],
      ] as const) {
        const res = await call(server, 'POST', '/auth_configs', {
          key,
          body: {
            connector_key: connector,
            ...(method ? { authentication_config_key: method } : {}),
            urls: { api_base_url: provider.url },
          },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        integrations[connector] = res.body.id;
      }
      const endpoint = await call(server, 'POST', '/webhook_endpoints', {
        key,
        body: { url: receiver.url, events: ['account.provider_event'] },
      });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      secrets.a = endpoint.body.secret;
      const otherHook = await call(server, 'POST', '/webhook_endpoints', {
        key: otherKey,
        body: { url: otherReceiver.url },
      });
      assert.equal(otherHook.status, 201, JSON.stringify(otherHook.body));
      otherEndpoint = otherHook.body.id;
      secrets.b = otherHook.body.secret;
    });
    after(async () => {
      await server?.close();
      await receiver?.close();
      await otherReceiver?.close();
      await provider?.close();
    });
    const secrets: { a?: string; b?: string } = {};

    /** A session for one end customer; returns its trigger token and, once connected, the account. */
    async function connect(
      apiKey: string,
      integrationId: string,
      credentials: Record<string, string> | undefined,
      owner = `owner-${randomUUID()}`,
    ) {
      const session = await call(server, 'POST', '/connect_sessions', {
        key: apiKey,
        body: { origin_owner_id: owner, origin_owner_name: 'Inbound Customer' },
      });
      assert.equal(session.status, 201, JSON.stringify(session.body));
      const trigger = session.body.external_trigger_token as string;
      if (!credentials) return { trigger, accountId: undefined };
      const res = await call(server, 'POST', '/hub/accounts', {
        headers: { 'x-hub-session-token': session.body.token, 'x-hub-version': '1' },
        body: { integration_id: integrationId, credentials },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { trigger, accountId: res.body.id as string };
    }

    /** What the provider stand-in sends: raw bytes, its own headers, to the trigger URL. */
    async function providerPosts(token: string, body: string | Buffer, headers: Record<string, string>) {
      const res = await fetch(`${server.url}/webhooks/inbound/${token}`, { method: 'POST', headers, body });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
    }

    async function storedProviderEvents(): Promise<number> {
      const row = await server.database.db
        .selectFrom('webhook_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('type', '=', 'account.provider_event')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    }

    function assertWireError(res: { status: number; body: unknown }, status: number) {
      assert.equal(res.status, status, JSON.stringify(res.body));
      const body = res.body as { statusCode: number; message: string; timestamp: string };
      assert.equal(body.statusCode, status);
      assert.equal(typeof body.message, 'string');
      assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
    }

    const deliveryOf = (delivery: string) =>
      receiver
        .waitFor((r) => r.some((h) => h.json?.provider_event?.headers?.['x-github-delivery'] === delivery))
        .then((r) => r.find((h) => h.json?.provider_event?.headers?.['x-github-delivery'] === delivery)!);

    test('a signed GitHub event arrives at the receiver as a signed account.provider_event', async () => {
      const { trigger, accountId } = await connect(key, integrations.github!, {
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
      verify(hook, secrets.a!); // Standard Webhooks signature, checked by the standardwebhooks package
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
      assert.ok(server.logs().includes('/webhooks/inbound/[redacted]'));
      assert.ok(!server.logs().includes(trigger), 'the logs contain the trigger token');
    });

    test('bad, missing and foreign signatures are 401s and leave no event', async () => {
      const { trigger } = await connect(key, integrations.github!, {
        access_token: 'good-github-pat-0123456789',
        webhook_secret: 'the-real-secret-0123456789',
      });
      const body = JSON.stringify({ action: 'deleted' });
      const before = await storedProviderEvents();
      const attempts: Array<Record<string, string>> = [
        { 'x-hub-signature-256': githubSignature('a-guessed-secret', body) },
        {},
        { 'x-hub-signature-256': githubSignature('the-real-secret-0123456789', `${body} `) },
        {
          'x-hub-signature-256': githubSignature('the-real-secret-0123456789', body).replace(
            'sha256=',
            'sha1=',
          ),
        },
        { 'x-hub-signature-256': 'sha256=not-hex' },
      ];
      for (const headers of attempts) {
        const res = await providerPosts(trigger, body, { 'content-type': 'application/json', ...headers });
        assertWireError(res, 401);
      }
      assert.equal(await storedProviderEvents(), before);
      // The same body correctly signed goes through: the refusals above were about the signature.
      const ok = await providerPosts(trigger, body, {
        'content-type': 'application/json',
        'x-hub-signature-256': githubSignature('the-real-secret-0123456789', body),
      });
      assert.equal(ok.status, 202, JSON.stringify(ok.body));
      assert.equal(await storedProviderEvents(), before + 1);
    });

    test('unknown tokens, tokens of sessions that connected nothing, and deleted accounts are 404s', async () => {
      const before = await storedProviderEvents();
      const { trigger: unconnected } = await connect(key, integrations.attio!, undefined);
      const { trigger: deletedTrigger, accountId } = await connect(key, integrations.attio!, {
        access_token: 'good-attio-0123456789',
      });
      const deleted = await call(server, 'DELETE', `/accounts/${accountId}`, { key });
      assert.equal(deleted.status, 200);
      for (const token of ['0'.repeat(48), unconnected, deletedTrigger, 'not-a-token', 'x'.repeat(90)]) {
        const res = await providerPosts(token, '{"a":1}', { 'content-type': 'application/json' });
        assertWireError(res, 404);
      }
      assert.equal(await storedProviderEvents(), before);
    });

    test('bodies over 256 KiB are refused with 413, whatever their content type', async () => {
      const { trigger } = await connect(key, integrations.attio!, { access_token: 'good-attio-0123456789' });
      const before = await storedProviderEvents();
      for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
        const big =
          type === 'application/json'
            ? JSON.stringify({ pad: 'x'.repeat(300 * 1024) })
            : 'x'.repeat(300 * 1024);
        assertWireError(await providerPosts(trigger, big, { 'content-type': type }), 413);
      }
      assert.equal(await storedProviderEvents(), before);
    });

    test('a connector without a declared signature forwards events unverified, in any content type', async () => {
      const { trigger, accountId } = await connect(key, integrations.attio!, {
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
        (await fetch(`${server.url}/webhooks/inbound/${trigger}`, { method: 'POST' })).status,
        202,
      );
      const hooks = await receiver.waitFor(
        (r) => r.filter((h) => h.json?.account_id === accountId).length === sent.length + 1,
      );
      const mine = hooks.filter((h) => h.json?.account_id === accountId);
      for (const item of sent) {
        const hook = mine.find((h) => h.json.provider_event.content_type === item.type);
        assert.ok(hook, `no delivery for ${item.type}`);
        verify(hook, secrets.a!);
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
      const { trigger } = await connect(key, integrations.github!, {
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

    test('Zendesk: the signed timestamp is checked, so an old event cannot be replayed', async () => {
      const { trigger, accountId } = await connect(key, integrations.zendesk!, {
        subdomain: 'acme',
        email: 'agent@acme.test',
        api_token: 'good-zendesk-0123456789',
        webhook_secret: 'zd-signing-secret-0123456789',
      });
      const body = JSON.stringify({ type: 'zen:event-type:ticket.created', detail: { id: '35436' } });
      const sign = (timestamp: string) => ({
        'content-type': 'application/json',
        'x-zendesk-webhook-signature-timestamp': timestamp,
        'x-zendesk-webhook-signature': zendeskSignature('zd-signing-secret-0123456789', timestamp, body),
      });
      const before = await storedProviderEvents();
      const stale = new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      assertWireError(await providerPosts(trigger, body, sign(stale)), 401);
      const noTimestamp = sign(new Date().toISOString());
      delete (noTimestamp as Record<string, string>)['x-zendesk-webhook-signature-timestamp'];
      assertWireError(await providerPosts(trigger, body, noTimestamp), 401);
      assert.equal(await storedProviderEvents(), before);

      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const res = await providerPosts(trigger, body, sign(now));
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const [hook] = await receiver
        .waitFor((r) => r.some((h) => h.json?.account_id === accountId))
        .then((r) => r.filter((h) => h.json?.account_id === accountId));
      verify(hook!, secrets.a!);
      assert.equal(hook!.json.provider_event.verified, true);
      assert.equal(hook!.json.provider_event.headers['x-zendesk-webhook-signature-timestamp'], now);
      assert.ok(!hook!.body.includes('zd-signing-secret-0123456789'));
      assert.ok(!hook!.body.includes('good-zendesk-0123456789'));
    });

    test("the token decides the project: one project's events never reach another's endpoints", async () => {
      const otherIntegration = await call(server, 'POST', '/auth_configs', {
        key: otherKey,
        body: { connector_key: 'attio', urls: { api_base_url: provider.url } },
      });
      assert.equal(otherIntegration.status, 201);
      const ours = await connect(
        key,
        integrations.attio!,
        { access_token: 'good-attio-0123456789' },
        'shared-owner',
      );
      const theirs = await connect(
        otherKey,
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
      const [theirHook] = await otherReceiver
        .waitFor((r) => r.some((h) => h.json?.event === 'account.provider_event'))
        .then((r) => r.filter((h) => h.json?.event === 'account.provider_event'));
      verify(theirHook!, secrets.b!);
      assert.equal(theirHook!.json.account_id, theirs.accountId);
      assert.deepEqual(theirHook!.json.provider_event.body, { to: 'B' });
      await receiver.waitFor((r) => r.some((h) => h.json?.account_id === ours.accountId));

      // Deliveries are written with the event, so the outbox says exactly who was ever meant to get what.
      const otherDeliveries = await server.database.db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
        .select(['e.payload'])
        .where('d.endpoint_id', '=', otherEndpoint)
        .where('e.type', '=', 'account.provider_event')
        .execute();
      assert.deepEqual(
        otherDeliveries.map((d) => (d.payload as { account_id: string }).account_id),
        [theirs.accountId],
      );
      assert.ok(!otherReceiver.received.some((h) => h.json?.account_id === ours.accountId));
    });

    test('failed signatures count in the failed-auth throttle: then even a valid one waits', async () => {
      const { trigger } = await connect(key, integrations.github!, {
        access_token: 'good-github-pat-0123456789',
        webhook_secret: 'throttled-secret-0123456789',
      });
      const body = '{"action":"created"}';
      for (let i = 0; i < 8; i++) {
        const res = await providerPosts(trigger, body, {
          'content-type': 'application/json',
          'x-hub-signature-256': githubSignature('wrong', body),
        });
        assertWireError(res, 401);
      }
      const before = await storedProviderEvents();
      const blocked = await providerPosts(trigger, body, {
        'content-type': 'application/json',
        'x-hub-signature-256': githubSignature('throttled-secret-0123456789', body),
      });
      assertWireError(blocked, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) >= 1);
      assert.equal(await storedProviderEvents(), before);
    });
  });
}

describe('inbound signature declarations', () => {
  const base = {
    key: 'acme',
    name: 'Acme',
    categories: ['crm'],
    release_stage: 'beta',
    api_base_url: 'https://api.acme.test',
    docs_url: 'https://docs.acme.test',
    auth: [
      {
        key: 'api_key',
        label: 'API key',
        type: 'custom',
        fields: [
          { key: 'api_key', label: 'API key', type: 'password', required: true },
          { key: 'hook_secret', label: 'Hook secret', type: 'password', required: false },
          { key: 'region', label: 'Region', type: 'text', required: false, secret: false },
        ],
        apply: { headers: { Authorization: 'Bearer {{api_key}}' } },
      },
    ],
  };
  const signature = {
    header: 'X-Acme-Signature',
    algorithm: 'sha256',
    encoding: 'hex',
    secret_field: 'hook_secret',
  };
  const problems = (inbound: unknown) => {
    const result = connectorSchema.safeParse({ ...base, inbound });
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  test('a complete declaration is accepted', () => {
    assert.deepEqual(problems({ signature, forward_headers: ['X-Acme-Event'] }), []);
    assert.deepEqual(
      problems({
        signature: {
          ...signature,
          payload: 'v0:{{timestamp}}:{{body}}',
          timestamp_header: 'X-Acme-Time',
          tolerance_seconds: 60,
        },
      }),
      [],
    );
  });

  test('mistakes are refused with what to fix', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        { signature: { ...signature, secret_field: 'region' } },
        /secret_field: no auth method has a secret field "region"/,
      ],
      [{ signature: { ...signature, secret_field: 'nope' } }, /no auth method has a secret field "nope"/],
      [
        { signature: { ...signature, payload: '{{timestamp}}', timestamp_header: 'X-T' } },
        /payload: must contain \{\{body\}\}/,
      ],
      [
        { signature: { ...signature, payload: '{{timestamp}}.{{body}}' } },
        /timestamp_header: a payload with \{\{timestamp\}\} needs/,
      ],
      [{ signature: { ...signature, timestamp_header: 'X-T' } }, /does not sign \{\{timestamp\}\}/],
      [
        { signature: { ...signature, payload: '{{api_key}}{{body}}' } },
        /only \{\{timestamp\}\} and \{\{body\}\} can be signed/,
      ],
      [{ signature: { ...signature, tolerance_seconds: 30 } }, /tolerance_seconds: only applies/],
      [{ signature: { ...signature, algorithm: 'md5' } }, /signature\.algorithm/],
      [{ signature: { ...signature, extra: true } }, /signature/],
      [{ forward_headers: ['Authorization'] }, /forward_headers\.0: "Authorization" carries a credential/],
      [{ signature, forward_headers: ['x-acme-signature'] }, /carries a credential or signature/],
    ];
    for (const [inbound, expected] of cases) {
      const found = problems(inbound);
      assert.ok(
        found.some((p) => expected.test(p)),
        `${JSON.stringify(inbound)} gave ${JSON.stringify(found)}`,
      );
    }
  });

  test('verification: prefix, base64, several signatures, timestamps in seconds, milliseconds and ISO', () => {
    const body = Buffer.from('{"a":1}');
    const header = (values: Record<string, string>) => (name: string) => values[name.toLowerCase()];
    const hmac = (algo: string, data: string) => createHmac(algo, 's3cret').update(data);
    const decl = { header: 'X-Sig', algorithm: 'sha1', encoding: 'base64', secret_field: 'x' } as const;
    const good = hmac('sha1', '{"a":1}').digest('base64');
    assert.deepEqual(verifySignature(decl, 's3cret', body, header({ 'x-sig': good })), { ok: true });
    assert.deepEqual(verifySignature(decl, 's3cret', body, header({ 'x-sig': `old==, ${good}` })), {
      ok: true,
    });
    assert.equal(verifySignature(decl, 'other', body, header({ 'x-sig': good })).ok, false);

    const timed = {
      header: 'X-Sig',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'v0=',
      secret_field: 'x',
      payload: 'v0:{{timestamp}}:{{body}}',
      timestamp_header: 'X-Time',
      tolerance_seconds: 300,
    } as const;
    const now = Date.parse('2026-11-30T12:00:00Z');
    const sig = (ts: string) => `v0=${hmac('sha256', `v0:${ts}:{"a":1}`).digest('hex')}`;
    const at = (ts: string) => header({ 'x-sig': sig(ts), 'x-time': ts });
    assert.equal(verifySignature(timed, 's3cret', body, at(String(now / 1000 - 299)), now).ok, true);
    assert.equal(verifySignature(timed, 's3cret', body, at(String(now / 1000 - 301)), now).ok, false);
    assert.equal(verifySignature(timed, 's3cret', body, at(String(now / 1000 + 301)), now).ok, false);
    assert.equal(parseSignedTimestamp(String(now)), now);
    assert.equal(parseSignedTimestamp('2026-11-30T12:00:00Z'), now);
    assert.equal(parseSignedTimestamp('yesterday'), undefined);
  });
});

describe('inbound rate limit', () => {
  let server: TestServer;
  let provider: FakeProvider;
  before(async () => {
    provider = await startFakeProvider(() => ({ status: 200, body: { ok: true } }));
    server = await startTestServer('pglite', { ...WEBHOOK_ENV, PLUGBOARD_RATE_LIMIT_PER_MINUTE: '3' });
  });
  after(async () => {
    await server?.close();
    await provider?.close();
  });

  test('each trigger URL has its own bucket, so one busy account does not hold up the others', async () => {
    const { api_key: key } = await server.newProject();
    const integration = await call(server, 'POST', '/auth_configs', {
      key,
      body: { connector_key: 'attio', urls: { api_base_url: provider.url } },
    });
    const triggers: string[] = [];
    for (const owner of ['busy', 'quiet']) {
      const session = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: owner, origin_owner_name: owner },
      });
      const res = await call(server, 'POST', '/hub/accounts', {
        headers: { 'x-hub-session-token': session.body.token, 'x-hub-version': '1' },
        body: { integration_id: integration.body.id, credentials: { access_token: 'good-0123456789' } },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      triggers.push(session.body.external_trigger_token);
    }
    const post = (token: string) =>
      fetch(`${server.url}/webhooks/inbound/${token}`, { method: 'POST', body: 'x' }).then((r) => r.status);
    assert.deepEqual(
      [await post(triggers[0]!), await post(triggers[0]!), await post(triggers[0]!)],
      [202, 202, 202],
    );
    assert.equal(await post(triggers[0]!), 429);
    assert.equal(await post(triggers[1]!), 202);
  });
});
