import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

/** REDIS_URL did not answer at start-up; the message names the server (never a password) and the fix. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/** Reconnection attempts back off exponentially up to this interval. */
const MAX_RECONNECT_DELAY_MS = 30_000;

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'the server in REDIS_URL';
  }
}

/**
 * Connects to Redis before the server listens: an unreachable REDIS_URL at start-up is a configuration
 * mistake and stops the process with one line. A later outage is logged as JSON through the app's logger
 * (ioredis would otherwise print its own non-JSON "Unhandled error event" lines), one line per
 * reconnection attempt, attempts backing off to one every 30 s, and one line when it is back.
 * Commands fail at once while disconnected (no offline queue), so requests never wait on Redis.
 */
export async function connectRedis(url: string, log: FastifyBaseLogger): Promise<Redis> {
  const where = describeUrl(url);
  let connected = false;
  let down = false;
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    // Before the first connection there is nothing to retry: start-up reports the failure instead.
    retryStrategy: (attempt) => (connected ? Math.min(100 * 2 ** attempt, MAX_RECONNECT_DELAY_MS) : null),
  });
  let firstError: NodeJS.ErrnoException | undefined;
  redis.on('error', (err: NodeJS.ErrnoException) => {
    if (!connected) {
      // connect() rejects with a generic "Connection is closed"; this one says why.
      firstError ??= err;
      return;
    }
    down = true;
    log.warn(
      { redis: where, err: { message: err.message, code: err.code } },
      'Redis unavailable: rate limits are not enforced until it is back; reconnecting with backoff',
    );
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ redis: where }, 'Redis connection restored');
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const e = firstError ?? (err as NodeJS.ErrnoException);
    throw new RedisUnreachableError(
      `cannot connect to Redis at ${where} (${e.message || e.code || String(err)}). Check REDIS_URL and that Redis is running and reachable.`,
    );
  }
  connected = true;
  return redis;
}
