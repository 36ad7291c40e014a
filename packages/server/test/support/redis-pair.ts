import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import type { Backend } from './backends.ts';
import { startTestServer, type TestServer } from './server.ts';

/** REDIS_URL when set: suites that share state through Redis skip without it. */
export const redisUrl = process.env.REDIS_URL;

/**
 * Two servers (two processes' worth of state: pools, caches, counters) on one Redis, and a client of
 * that Redis to look at what they stored. Call inside a describe(); the fields are set once `before` ran.
 */
export function useServersSharingRedis(backend: Backend, env: Record<string, string>) {
  const pair = {} as { first: TestServer; second: TestServer; redis: Redis };
  before(async () => {
    const shared = { ...env, REDIS_URL: redisUrl ?? '' };
    pair.first = await startTestServer(backend, shared);
    pair.second = await startTestServer(backend, shared);
    pair.redis = new Redis(redisUrl ?? '');
  });
  after(async () => {
    await pair.first.close();
    await pair.second.close();
    await pair.redis.quit();
  });
  return pair;
}
