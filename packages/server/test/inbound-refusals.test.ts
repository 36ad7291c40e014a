import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { assertWireError, githubSignature, useInboundStand, zendeskSignature } from './support/inbound.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';
import { verify, WEBHOOK_ENV } from './support/webhooks.ts';

// What the trigger URL refuses: bad or stale signatures, unknown tokens, oversized bodies, and callers
// past the failed-auth throttle or the rate limit. Everything refused leaves no event behind. Events
// that go through are in inbound-events.test.ts.

for (const backend of backends()) {
  describe(`inbound provider events refused (${backend})`, () => {
    const stand = useInboundStand(backend);
    const { connect, providerPosts, storedProviderEvents } = stand;

    test('bad, missing and foreign signatures are 401s and leave no event', async () => {
      const { trigger } = await connect(stand.key, stand.integrations.github!, {
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
      const { trigger: unconnected } = await connect(stand.key, stand.integrations.attio!, undefined);
      const { trigger: deletedTrigger, accountId } = await connect(stand.key, stand.integrations.attio!, {
        access_token: 'good-attio-0123456789',
      });
      const deleted = await call(stand.server, 'DELETE', `/accounts/${accountId}`, { key: stand.key });
      assert.equal(deleted.status, 200);
      for (const token of ['0'.repeat(48), unconnected, deletedTrigger, 'not-a-token', 'x'.repeat(90)]) {
        const res = await providerPosts(token, '{"a":1}', { 'content-type': 'application/json' });
        assertWireError(res, 404);
      }
      assert.equal(await storedProviderEvents(), before);
    });

    test('bodies over 256 KiB are refused with 413, whatever their content type', async () => {
      const { trigger } = await connect(stand.key, stand.integrations.attio!, {
        access_token: 'good-attio-0123456789',
      });
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

    test('Zendesk: the signed timestamp is checked, so an old event cannot be replayed', async () => {
      const { trigger, accountId } = await connect(stand.key, stand.integrations.zendesk!, {
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
      const [hook] = await stand.receiver
        .waitFor((r) => r.some((h) => h.json?.account_id === accountId))
        .then((r) => r.filter((h) => h.json?.account_id === accountId));
      verify(hook!, stand.secrets.a!);
      assert.equal(hook!.json.provider_event.verified, true);
      assert.equal(hook!.json.provider_event.headers['x-zendesk-webhook-signature-timestamp'], now);
      assert.ok(!hook!.body.includes('zd-signing-secret-0123456789'));
      assert.ok(!hook!.body.includes('good-zendesk-0123456789'));
    });

    test('failed signatures count in the failed-auth throttle: then even a valid one waits', async () => {
      const { trigger } = await connect(stand.key, stand.integrations.github!, {
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
