import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { createSession } from './support/connect.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';
import { stackOneSignature, verify, WEBHOOK_ENV } from './support/webhooks.ts';

// Managing webhook endpoints: creating, reading, changing and deleting them, which URLs they may point
// at, and rotating their signing secret. What gets delivered, and how, is in webhooks.test.ts.

for (const backend of backends()) {
  describe(`webhook endpoints (${backend})`, () => {
    let server: TestServer;
    let receiver: WebhookReceiver;
    let key: string;

    before(async () => {
      receiver = await startWebhookReceiver();
      server = await startTestServer(backend, WEBHOOK_ENV, { webhooks: true });
      key = (await server.newProject()).api_key;
    });
    after(async () => {
      await server.close();
      await receiver.close();
    });

    async function addEndpoint(body: Record<string, unknown>, apiKey = key) {
      const res = await call(server, 'POST', '/webhook_endpoints', { key: apiKey, body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; secret: string; url: string };
    }

    test('endpoints: the secret is shown once, URLs are checked, other projects see nothing', async () => {
      const created = await addEndpoint({
        url: receiver.url,
        events: ['account.created'],
        description: 'CRM',
      });
      assert.match(created.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
      assert.match(created.id, /^whe_/);
      const got = await call(server, 'GET', `/webhook_endpoints/${created.id}`, { key });
      assert.equal(got.status, 200);
      assert.equal(got.body.secret, undefined);
      assert.deepEqual(got.body.events, ['account.created']);
      const list = await call(server, 'GET', '/webhook_endpoints', { key });
      assert.ok(list.body.data.some((e: { id: string }) => e.id === created.id));
      assert.ok(!JSON.stringify(list.body).includes(created.secret));
      assert.ok(!server.logs().includes(created.secret), 'the secret is not logged');

      const patched = await call(server, 'PATCH', `/webhook_endpoints/${created.id}`, {
        key,
        body: { enabled: false, events: null },
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.enabled, false);
      assert.equal(patched.body.events, null);

      for (const body of [
        { url: 'ftp://example.com/hook' },
        { url: receiver.url, events: ['account.exploded'] },
        { url: receiver.url, events: [] },
        { url: receiver.url, secret: 'mine' },
      ]) {
        const res = await call(server, 'POST', '/webhook_endpoints', { key, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.statusCode, 400);
        assert.ok(Array.isArray(res.body.errors) && res.body.errors.length > 0);
      }

      const stranger = (await server.newProject('other')).api_key;
      for (const [method, path] of [
        ['GET', `/webhook_endpoints/${created.id}`],
        ['PATCH', `/webhook_endpoints/${created.id}`],
        ['DELETE', `/webhook_endpoints/${created.id}`],
        ['POST', `/webhook_endpoints/${created.id}/rotate_secret`],
        ['GET', `/webhook_endpoints/${created.id}/deliveries`],
      ] as const) {
        const res = await call(server, method, path, {
          key: stranger,
          body: method === 'PATCH' ? {} : undefined,
        });
        assert.equal(res.status, 404, `${method} ${path} ${JSON.stringify(res.body)}`);
      }
      const theirs = await call(server, 'GET', '/webhook_endpoints', { key: stranger });
      assert.equal(theirs.body.total, 0);
      assert.equal((await call(server, 'GET', '/webhook_endpoints', {})).status, 401);

      assert.equal((await call(server, 'DELETE', `/webhook_endpoints/${created.id}`, { key })).status, 204);
      assert.equal((await call(server, 'GET', `/webhook_endpoints/${created.id}`, { key })).status, 404);
    });

    test('private, link-local and other non-public addresses are refused unless configured', async () => {
      // Loopback is allowed on this server; everything else non-public is not.
      for (const url of [
        'http://10.0.0.8/hook',
        'http://192.168.1.10/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[fd00::1]/hook',
        'http://0.0.0.0/hook',
      ]) {
        const res = await call(server, 'POST', '/webhook_endpoints', { key, body: { url } });
        assert.equal(res.status, 400, url);
        assert.match(res.body.message, /PLUGBOARD_WEBHOOK_ALLOWED_RANGES|cannot be sent/, url);
        const session = await call(server, 'POST', '/connect_sessions', {
          key,
          body: { origin_owner_id: 'o', origin_owner_name: 'O', webhook_url: url },
        });
        assert.equal(session.status, 400, `session webhook_url ${url}`);
      }
      // A server with the default configuration refuses loopback too.
      const strict = await startTestServer(backend);
      try {
        const k = (await strict.newProject()).api_key;
        for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://[::1]:9/hook']) {
          const res = await call(strict, 'POST', '/webhook_endpoints', { key: k, body: { url } });
          assert.equal(res.status, 400, url);
        }
      } finally {
        await strict.close();
      }
    });

    test('a rotated secret keeps the old one valid during the overlap, and not after', async () => {
      const rotating = await startWebhookReceiver();
      try {
        const endpoint = await addEndpoint({ url: rotating.url, events: ['connect_session.created'] });
        const rotated = await call(server, 'POST', `/webhook_endpoints/${endpoint.id}/rotate_secret`, {
          key,
          body: { overlap_seconds: 3600 },
        });
        assert.equal(rotated.status, 200);
        assert.notEqual(rotated.body.secret, endpoint.secret);
        assert.ok(Date.parse(rotated.body.previous_secret_expires_at) > Date.now());
        await createSession(server, key, { origin_owner_id: 'rotation' });
        const [during] = await rotating.waitFor((r) => r.length >= 1);
        verify(during!, endpoint.secret);
        verify(during!, rotated.body.secret);
        assert.equal(String(during!.headers['webhook-signature']).split(' ').length, 2);
        assert.equal(
          during!.headers['x-stackone-signature'],
          stackOneSignature(during!.body, rotated.body.secret),
        );

        // Without overlap the old secret stops at once.
        const again = await call(server, 'POST', `/webhook_endpoints/${endpoint.id}/rotate_secret`, {
          key,
          body: { overlap_seconds: 0 },
        });
        assert.equal(again.body.previous_secret_expires_at, null);
        await createSession(server, key, { origin_owner_id: 'rotation-2' });
        const [, later] = await rotating.waitFor((r) => r.length >= 2);
        verify(later!, again.body.secret);
        assert.throws(() => verify(later!, rotated.body.secret));
        assert.throws(() => verify(later!, endpoint.secret));
        await call(server, 'DELETE', `/webhook_endpoints/${endpoint.id}`, { key });
      } finally {
        await rotating.close();
      }
    });
  });
}
