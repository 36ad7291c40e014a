import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { hashSecret } from '../src/crypto/tokens.ts';
import { createProject } from '../src/services/tenancy.ts';
import { backends } from './support/backends.ts';
import { redisUrl, useServersSharingRedis } from './support/redis-pair.ts';
import { call } from './support/server.ts';

const body = { origin_owner_id: 'o', origin_owner_name: 'O' };

/**
 * With REDIS_URL the budget is shared by every process, which is the point of the Redis store: two
 * servers (each with its own database holding the same key) draw from one counter per key.
 */
for (const backend of backends()) {
  describe(`rate limit shared through Redis (${backend})`, {
    skip: !redisUrl && 'REDIS_URL is not set',
  }, () => {
    const servers = useServersSharingRedis(backend, { PLUGBOARD_RATE_LIMIT_PER_MINUTE: '3' });

    test('two servers draw on one budget per key; the key is not stored in Redis in clear', async () => {
      const { first, second, redis } = servers;
      // A fresh key per run, so counters left in Redis by earlier runs cannot interfere.
      const key = `pbk_${randomBytes(32).toString('base64url')}`;
      await createProject(first.database.db, { name: 'shared', apiKey: key });
      await createProject(second.database.db, { name: 'shared', apiKey: key });
      const other = (await second.newProject()).api_key;

      assert.equal((await call(first, 'POST', '/connect_sessions', { key, body })).status, 201);
      assert.equal((await call(second, 'POST', '/connect_sessions', { key, body })).status, 201);
      assert.equal((await call(first, 'POST', '/connect_sessions', { key, body })).status, 201);
      const limited = await call(second, 'POST', '/connect_sessions', { key, body });
      assert.equal(limited.status, 429, 'the fourth request, on the other server, is over the shared budget');
      assert.equal(limited.body.statusCode, 429);
      assert.match(limited.body.message, /Rate limit/);
      assert.ok(!Number.isNaN(Date.parse(limited.body.timestamp)));
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(
        Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
        `retry-after ${retryAfter}`,
      );
      assert.equal(
        (await call(second, 'POST', '/connect_sessions', { key: other, body })).status,
        201,
        'another key is unaffected',
      );

      const stored = await redis.keys('plugboard-rl:*');
      // The bucket is named by the key's SHA-256, the hash the API key hook already computed.
      const hashed = hashSecret(key);
      assert.ok(
        stored.some((k) => k.includes(hashed)),
        `a counter for the hashed key exists: ${stored.join(', ')}`,
      );
      assert.ok(!stored.some((k) => k.includes(key.slice(4))), 'no Redis key holds the API key');
    });
  });
}
