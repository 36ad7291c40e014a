import { type Db, holdsOneConnection, type Tx } from '../db/database.ts';
import type { LinkedAccountRow } from '../db/schema.ts';

export interface LockedAccount {
  /** The account as it is now that the lock is held; undefined when it was deleted. */
  row: LinkedAccountRow | undefined;
  /** Runs writes that must commit together (the change and its webhook event). */
  atomically<T>(work: (tx: Db | Tx) => Promise<T>): Promise<T>;
}

/**
 * Runs `fn` holding the account's lock, for work that calls a provider in the middle (a token refresh).
 *
 * PostgreSQL: SELECT … FOR UPDATE in a transaction that lasts the whole of `fn`, which serializes every
 * process sharing the database. PGlite: that transaction would hold the only connection during the
 * provider call, stalling every other request, and deadlocking a provider that answers in-process from
 * the same database (the sandbox). One process owns a PGlite data directory (its lock file), so a lock
 * inside this process gives the same guarantee there; the writes then get a short transaction of their own.
 */
export async function withAccountLock<T>(
  db: Db,
  accountId: string,
  fn: (locked: LockedAccount) => Promise<T>,
): Promise<T> {
  if (!holdsOneConnection(db)) {
    return db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('linked_accounts')
        .selectAll()
        .where('id', '=', accountId)
        .forUpdate()
        .executeTakeFirst();
      return fn({ row, atomically: (work) => work(tx) });
    });
  }
  return inProcessLock(db, accountId, async () => {
    const row = await db
      .selectFrom('linked_accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirst();
    return fn({ row, atomically: (work) => db.transaction().execute(work) });
  });
}

/** Per database and key, a queue: each caller waits for the previous one to finish. */
const queues = new WeakMap<Db, Map<string, Promise<void>>>();

async function inProcessLock<T>(db: Db, key: string, fn: () => Promise<T>): Promise<T> {
  const byKey = queues.get(db) ?? new Map<string, Promise<void>>();
  queues.set(db, byKey);
  const previous = byKey.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  byKey.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (byKey.get(key) === tail) byKey.delete(key);
  }
}
