import { LRUCache } from 'lru-cache';

/**
 * A bounded map with a time to live per entry: the one cache shape Plugboard uses. Entries past their
 * TTL are never served, and a sweep drops them from memory within a second (decrypted secrets must not
 * outlive their TTL in memory).
 *
 * load() guards against the classic fill race: a value read from the database while an invalidation
 * for any key arrives may be stale, so it is handed to the caller but not stored.
 */
export interface TtlCache<V extends object> {
  get(key: string): V | undefined;
  /** The cached value, or loader()'s (stored unless undefined, ttlMs ≤ 0 or invalidated meanwhile). */
  load(
    key: string,
    loader: () => Promise<V | undefined>,
    ttlMs?: (value: V) => number,
  ): Promise<V | undefined>;
  delete(key: string): void;
  /** Drops entries whose value matches (a rare, broad invalidation: an auth config changed). */
  deleteWhere(match: (value: V) => boolean): void;
  clear(): void;
  purgeStale(): void;
  readonly size: number;
}

export function ttlCache<V extends object>(options: { max: number; ttlMs: number }): TtlCache<V> {
  const lru = new LRUCache<string, V>({ max: options.max, ttl: options.ttlMs, updateAgeOnGet: false });
  // Bumped by every invalidation; a load that saw another epoch at its start does not store.
  let epoch = 0;
  return {
    get: (key) => lru.get(key),
    async load(key, loader, ttlMs) {
      const hit = lru.get(key);
      if (hit !== undefined) return hit;
      const started = epoch;
      const value = await loader();
      if (value === undefined || epoch !== started) return value;
      const ttl = Math.min(options.ttlMs, ttlMs ? ttlMs(value) : options.ttlMs);
      if (ttl > 0) lru.set(key, value, { ttl });
      return value;
    },
    delete(key) {
      epoch++;
      lru.delete(key);
    },
    deleteWhere(match) {
      epoch++;
      for (const [key, value] of lru.entries()) if (match(value)) lru.delete(key);
    },
    clear() {
      epoch++;
      lru.clear();
    },
    purgeStale: () => void lru.purgeStale(),
    get size() {
      return lru.size;
    },
  };
}
