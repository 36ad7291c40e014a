import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { createSession } from './support/connect.ts';
import { redisUrl, useServersSharingRedis } from './support/redis-pair.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

const LIMITS = {
  PLUGBOARD_AUTH_FAILURES_PER_ADDRESS: '6',
  PLUGBOARD_AUTH_FAILURES_PER_CREDENTIAL: '3',
  PLUGBOARD_METRICS_TOKEN: 'metrics-token-0123456789',
};
const body = { origin_owner_id: 'o', origin_owner_name: 'O' };
const randomKey = () => `pbk_${randomBytes(24).toString('base64url')}`;

function assert429(res: {
  status: number;
  headers: Headers;
  body: { statusCode?: number; message?: string };
}) {
  assert.equal(res.status, 429, JSON.stringify(res.body));
  assert.equal(res.body.statusCode, 429);
  assert.match(res.body.message ?? '', /failed authentication/);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 600,
    `retry-after ${retryAfter}`,
  );
}

/**
 * Failed authentication is throttled before any lookup: per presented credential (one wrong key from
 * anywhere) and per client address (many made-up keys from one place). Each test uses its own server,
 * since the address counter is shared by everything coming from 127.0.0.1.
 */
for (const backend of backends()) {
  describe(`failed authentication is throttled (${backend})`, () => {
    let server: TestServer;
    const fresh = async () => {
      await server?.close();
      server = await startTestServer(backend, LIMITS);
    };
    after(() => server?.close());

    test('one wrong API key: 401 up to the per-credential limit, then 429 with Retry-After', async () => {
      await fresh();
      const wrong = randomKey();
      for (let i = 0; i < 3; i++) {
        assert.equal((await call(server, 'POST', '/connect_sessions', { key: wrong, body })).status, 401);
      }
      assert429(await call(server, 'POST', '/connect_sessions', { key: wrong, body }));
      // The key's own counter says nothing about a valid key from the same address (3 < 6 failures).
      const { api_key } = await server.newProject();
      assert.equal((await call(server, 'POST', '/connect_sessions', { key: api_key, body })).status, 201);
    });

    test('made-up keys from one address: blocked once the address limit is reached, valid keys too', async () => {
      await fresh();
      const { api_key } = await server.newProject();
      for (let i = 0; i < 6; i++) {
        assert.equal((await call(server, 'GET', '/accounts', { key: randomKey() })).status, 401);
      }
      assert429(await call(server, 'GET', '/accounts', { key: randomKey() }));
      assert429(await call(server, 'GET', '/accounts'));
      // Checked before the lookup: from a throttled address even a valid key waits.
      assert429(await call(server, 'GET', '/accounts', { key: api_key }));
    });

    test('wrong hub session tokens and a wrong metrics token are throttled the same way', async () => {
      await fresh();
      const hub = (token: string) =>
        call(server, 'GET', '/hub/settings', { headers: { 'x-hub-session-token': token } });
      const wrong = `pbt_${randomBytes(24).toString('base64url')}`;
      for (let i = 0; i < 3; i++) assert.equal((await hub(wrong)).status, 401);
      assert429(await hub(wrong));

      const metrics = (token: string) =>
        call(server, 'GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
      for (let i = 0; i < 3; i++) assert.equal((await metrics('not-the-token')).status, 401);
      assert429(await metrics('not-the-token'));
    });

    test('valid credentials never count as failures', async () => {
      await fresh();
      const { api_key } = await server.newProject();
      const { token } = await createSession(server, api_key);
      for (let i = 0; i < 12; i++) {
        assert.equal((await call(server, 'GET', '/accounts', { key: api_key })).status, 200);
        const settings = await call(server, 'GET', '/hub/settings', {
          headers: { 'x-hub-session-token': token },
        });
        assert.equal(settings.status, 200);
      }
    });
  });
}

describe('failed-authentication counters are shared through Redis', {
  skip: !redisUrl && 'REDIS_URL is not set',
}, () => {
  const servers = useServersSharingRedis('pglite', LIMITS);

  test('failures on one process count on the other; the credential is not stored in clear', async () => {
    const { first, second, redis } = servers;
    const wrong = randomKey();
    assert.equal((await call(first, 'GET', '/accounts', { key: wrong })).status, 401);
    assert.equal((await call(second, 'GET', '/accounts', { key: wrong })).status, 401);
    assert.equal((await call(first, 'GET', '/accounts', { key: wrong })).status, 401);
    assert429(await call(second, 'GET', '/accounts', { key: wrong }));
    const keys = await redis.keys('plugboard-auth-fail:*');
    assert.ok(keys.length > 0);
    assert.ok(!keys.some((k) => k.includes(wrong.slice(4))), 'no Redis key holds the API key');
    // The address counter is shared too: clear it so other suites on this Redis start clean.
    await redis.del(...keys);
  });
});
