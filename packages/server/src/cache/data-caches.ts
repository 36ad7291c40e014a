import type { DatabaseHandle, Db } from '../db/database.ts';
import type {
  ConnectionAttemptRow,
  ConnectSessionRow,
  IntegrationRow,
  LinkedAccountRow,
} from '../db/schema.ts';
import type { ProjectContext } from '../services/tenancy.ts';
import { ttlCache } from './lru.ts';

/** The one channel every cache invalidation travels on (see migration 0012_data_plane). */
export const CACHE_CHANNEL = 'plugboard_cache';

/** What the proxy and the credentials endpoint need of an account, decrypted. */
export interface AccountEntry {
  row: LinkedAccountRow;
  integration: Pick<IntegrationRow, 'id' | 'auth_method' | 'urls'> | undefined;
  credentials: Record<string, unknown>;
}

/**
 * How long an entry may be served without a notice. Notices make changes visible in every process
 * within milliseconds; these bound how long a change could go unseen if one were lost, and how long
 * decrypted secrets stay in memory.
 */
export const CACHE_TTL_MS = {
  apiKeys: 10_000,
  sessions: 10_000,
  accounts: 5_000,
  hubReads: 10_000,
  latestAttempts: 10_000,
} as const;

/** A hub answer, serialised once: it depends only on its session and on its project's rows. */
export interface HubReadEntry {
  projectId: string;
  /** The JSON text, sent as it is. */
  json: string;
  /** Its length in bytes (content-length). */
  bytes: number;
  /** The route's template, which metrics count answers by (e.g. /hub/connectors/:integration_id). */
  route: string;
}

/** Per process, per database. Bounded so memory stays flat whatever the traffic. */
export type CacheTtls = { [K in keyof typeof CACHE_TTL_MS]: number };

export class DataCaches {
  /** key_hash → project (valid keys only). */
  readonly apiKeys;
  /** token_hash → usable session row. */
  readonly sessions;
  /** account id → account, auth config and decrypted credentials. */
  readonly accounts;
  /** "<URL as requested>|<token_hash>" → the hub's answer (see migration 0013_read_caches). */
  readonly hubReads;
  /** session id → its latest connection attempt, if any (boxed: a cache holds objects only). */
  readonly latestAttempts;

  constructor(ttl: CacheTtls = CACHE_TTL_MS) {
    this.apiKeys = ttlCache<ProjectContext>({ max: 10_000, ttlMs: ttl.apiKeys });
    this.sessions = ttlCache<ConnectSessionRow>({ max: 20_000, ttlMs: ttl.sessions });
    this.accounts = ttlCache<AccountEntry>({ max: 10_000, ttlMs: ttl.accounts });
    this.hubReads = ttlCache<HubReadEntry>({ max: 20_000, ttlMs: ttl.hubReads });
    this.latestAttempts = ttlCache<{ attempt: ConnectionAttemptRow | undefined }>({
      max: 20_000,
      ttlMs: ttl.latestAttempts,
    });
  }

  /**
   * Applies one notice: "k:<key_hash>", "s:<token_hash>", "a:<account id>", "i:<auth config id>", and
   * "p:<project id>" (its auth configs changed), "o:<project id>" (its accounts came or went) and
   * "t:<session id>" (an attempt of that session was written).
   */
  apply(payload: string): void {
    const colon = payload.indexOf(':');
    const kind = payload.slice(0, colon);
    const value = payload.slice(colon + 1);
    if (kind === 'k') this.apiKeys.delete(value);
    else if (kind === 's') this.sessions.delete(value);
    else if (kind === 'a') this.accounts.delete(value);
    else if (kind === 'i') this.accounts.deleteWhere((entry) => entry.integration?.id === value);
    else if (kind === 'p' || kind === 'o') this.forgetHubReads(value);
    else if (kind === 't') this.latestAttempts.delete(value);
    else this.clear();
  }

  /** Drops the project's hub answers: rare (an auth config or an account changed), so a scan is fine. */
  forgetHubReads(projectId: string): void {
    this.hubReads.deleteWhere((entry) => entry.projectId === projectId);
  }

  clear(): void {
    this.apiKeys.clear();
    this.sessions.clear();
    this.accounts.clear();
    this.hubReads.clear();
    this.latestAttempts.clear();
  }

  purgeStale(): void {
    this.apiKeys.purgeStale();
    this.sessions.purgeStale();
    this.accounts.purgeStale();
    this.hubReads.purgeStale();
    this.latestAttempts.purgeStale();
  }
}

const active = new WeakMap<Db, DataCaches>();

/**
 * The caches of this database in this process, or undefined when caching is off (no listener: a
 * process that cannot hear other processes' changes must not cache them).
 */
export const cachesOf = (db: Db): DataCaches | undefined => active.get(db);

/**
 * Turns caching on for `db`: listens on CACHE_CHANNEL first, so no change committed after a value is
 * cached can go unheard. While the listening connection is lost, caching is off (everything is read
 * from the database) rather than risk serving revoked credentials until their TTL; it comes back, empty,
 * once the listener listens again on a new connection.
 * Resolves to the function that turns it off again.
 */
export async function startDataCaches(
  db: Db,
  listen: DatabaseHandle['listen'],
  /** Tests lengthen them, to prove a change arrives by notice and not by expiry. */
  ttl: CacheTtls = CACHE_TTL_MS,
): Promise<() => Promise<void>> {
  const caches = new DataCaches(ttl);
  let stopped = false;
  // clear() also stops loads in flight from storing what they read before the change.
  const off = () => {
    if (active.get(db) === caches) active.delete(db);
    caches.clear();
  };
  const on = () => {
    if (stopped) return;
    caches.clear();
    active.set(db, caches);
  };
  const unlisten = await listen(CACHE_CHANNEL, (payload) => caches.apply(payload), {
    lost: off,
    restored: on,
  });
  on();
  const sweep = setInterval(() => caches.purgeStale(), 1000);
  sweep.unref();
  return async () => {
    stopped = true;
    clearInterval(sweep);
    off();
    await unlisten();
  };
}
