import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { DomainError } from '../errors.ts';

/**
 * Failed authentication (API keys, hub session tokens, the metrics token) is counted per client address
 * and per presented credential, and checked BEFORE the credential is looked up: guessing keys, or
 * hammering with a stolen-then-revoked one, costs the attacker a 429 instead of costing us a database
 * query each time. Valid credentials never touch these counters; their traffic has per-key buckets.
 */
export interface AuthThrottleLimits {
  /** Failures one client address may have per window before every request from it gets 429. */
  perAddress: number;
  /** Failures one presented credential may have per window, from any address. */
  perCredential: number;
  windowMs: number;
}

/** Fixed-window failure counters, in memory or shared by every process through Redis. */
export interface FailureStore {
  /** Milliseconds until the first of `keys` at or over `limit` is released, or 0 when none is. */
  blockedFor(keys: Array<{ key: string; limit: number }>): Promise<number>;
  add(keys: string[], windowMs: number): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Shared by every authentication hook of the app. */
    authThrottle: AuthThrottle;
  }
}

export class AuthThrottle {
  constructor(
    private readonly store: FailureStore,
    private readonly limits: AuthThrottleLimits,
    /** A store that cannot answer (Redis down) must not lock everyone out: it is reported and skipped. */
    private readonly onStoreError: (err: unknown) => void = () => {},
  ) {}

  private keys(request: FastifyRequest, kind: string, credential: string | undefined) {
    const keys = [{ key: `a:${request.ip}`, limit: this.limits.perAddress }];
    if (credential) {
      // Hashed: the credential itself must not sit in memory maps or Redis.
      const digest = createHash('sha256').update(`${kind}:${credential}`).digest('base64url');
      keys.push({ key: `c:${digest}`, limit: this.limits.perCredential });
    }
    return keys;
  }

  /** Throws 429 with Retry-After when the address or the credential failed too often recently. */
  async check(request: FastifyRequest, kind: string, credential: string | undefined): Promise<void> {
    const waitMs = await this.store.blockedFor(this.keys(request, kind, credential)).catch((err) => {
      this.onStoreError(err);
      return 0;
    });
    if (waitMs <= 0) return;
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    throw new DomainError(
      'rate_limited',
      `Too many failed authentication attempts. Retry after ${seconds} s with a valid credential.`,
      { retryAfterSeconds: seconds },
    );
  }

  async recordFailure(request: FastifyRequest, kind: string, credential: string | undefined): Promise<void> {
    const keys = this.keys(request, kind, credential).map((k) => k.key);
    await this.store.add(keys, this.limits.windowMs).catch(this.onStoreError);
  }
}

/** Bounded: an attacker rotating addresses or keys cannot grow it past `maxEntries`. */
export function memoryFailureStore(maxEntries = 100_000): FailureStore {
  const counters = new Map<string, { count: number; resetAt: number }>();
  const live = (key: string, now: number) => {
    const entry = counters.get(key);
    if (entry && entry.resetAt <= now) {
      counters.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    async blockedFor(keys) {
      const now = Date.now();
      let wait = 0;
      for (const { key, limit } of keys) {
        const entry = live(key, now);
        if (entry && entry.count >= limit) wait = Math.max(wait, entry.resetAt - now);
      }
      return wait;
    },
    async add(keys, windowMs) {
      const now = Date.now();
      for (const key of keys) {
        const entry = live(key, now);
        if (entry) entry.count++;
        else {
          // Maps iterate in insertion order: the first key is the oldest window.
          if (counters.size >= maxEntries) counters.delete(counters.keys().next().value!);
          counters.set(key, { count: 1, resetAt: now + windowMs });
        }
      }
    },
  };
}

export function redisFailureStore(redis: Redis, prefix = 'plugboard-auth-fail:'): FailureStore {
  return {
    async blockedFor(keys) {
      const counts = await redis.mget(keys.map((k) => prefix + k.key));
      let wait = 0;
      for (const [i, { key, limit }] of keys.entries()) {
        if (Number(counts[i] ?? 0) < limit) continue;
        wait = Math.max(wait, await redis.pttl(prefix + key));
      }
      return wait;
    },
    async add(keys, windowMs) {
      const multi = redis.multi();
      for (const key of keys) {
        multi.incr(prefix + key);
        // NX: the window starts with the first failure and is not extended by later ones.
        multi.pexpire(prefix + key, windowMs, 'NX');
      }
      await multi.exec();
    },
  };
}
