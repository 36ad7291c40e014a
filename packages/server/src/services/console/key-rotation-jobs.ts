import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { sql } from 'kysely';
import { type Vault, VaultError } from '../../crypto/vault.ts';
import type { Db } from '../../db/database.ts';
import type { KeyRotationJobRow, KeyRotationTableProgress } from '../../db/schema.ts';
import { conflict, DomainError } from '../../errors.ts';
import { recordAudit } from '../audit.ts';
import { type RotatedTable, type RotationResult, rotateKey } from '../key-rotation.ts';
import type { Actor } from '../tenancy.ts';

/**
 * Key rotations started from the console: rotateKey run in the background of the API process that
 * received the request, so it outlives that request. Its progress is written to `key_rotation_jobs`
 * after every batch, which is how any process (behind a load balancer, polls land anywhere) reports it,
 * and a partial unique index keeps it to one running job per database.
 *
 * Other processes pick the new key up by notice (listenForKeyChanges), within 30 s if a notice is lost;
 * what they write under the old key meanwhile is counted in `remaining`, for a "finish" run. A CLI rotation at the
 * same time is safe: both lock rows with SKIP LOCKED and every key stays in the ring.
 */

export type RotationMode = 'rotate' | 'finish';
type TableProgress = KeyRotationTableProgress;

export interface KeyRotationJob {
  id: string;
  mode: RotationMode;
  status: 'running' | 'finished' | 'failed' | 'interrupted';
  started_by: string;
  started_at: string;
  finished_at: string | null;
  /** The key version rows are re-encrypted to; null until the run has it. */
  version: number | null;
  tables: TableProgress[];
  failed_rows: Array<{ table: string; id: string; code: string; message: string }>;
  error: string | null;
}

/** How often a running job proves its process is alive. */
const HEARTBEAT_SECONDS = 5;
/** A running job silent for this long belongs to a process that stopped (crash, kill -9, lost database). */
const STALE_SECONDS = 60;

const RESUME = 'Rows re-encrypted so far keep the new key; press Finish rotation to re-encrypt the rest.';
const STALE_MESSAGE = `The rotation stopped reporting progress (the server process running it probably stopped). ${RESUME}`;
const SHUTDOWN_MESSAGE = `Plugboard shut down while the rotation ran. ${RESUME}`;

/** That job, else the most recent one (running or not); null when none was ever started from the console. */
export async function findKeyRotation(db: Db, id?: string): Promise<KeyRotationJob | null> {
  const row = await db
    .selectFrom('key_rotation_jobs')
    .selectAll()
    .select(sql<boolean>`heartbeat_at < now() - make_interval(secs => ${sql.lit(STALE_SECONDS)})`.as('stale'))
    .$if(id !== undefined, (qb) => qb.where('id', '=', id as string))
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  // A dead process cannot say so: report its job as interrupted; the next start records that.
  if (row.status === 'running' && row.stale)
    return toJob({ ...row, status: 'interrupted', error: STALE_MESSAGE });
  return toJob(row);
}

function toJob(row: KeyRotationJobRow): KeyRotationJob {
  return {
    id: row.id,
    mode: row.mode,
    status: row.status,
    started_by: row.started_by,
    started_at: row.started_at.toISOString(),
    finished_at: row.finished_at ? row.finished_at.toISOString() : null,
    version: row.version,
    tables: row.tables,
    failed_rows: row.failed_rows,
    error: row.error,
  };
}

/** Thrown from rotateKey's callbacks to stop it between batches. */
class JobStopped extends Error {}

const RESULT_KEYS: Record<RotatedTable, 'accounts' | 'integrations' | 'webhook_endpoints'> = {
  linked_accounts: 'accounts',
  integrations: 'integrations',
  webhook_endpoints: 'webhook_endpoints',
};

export interface KeyRotationRunner {
  /** Claims the database's one running slot (409 if taken), records it, and starts the run. */
  start(input: { mode: RotationMode; actor: Actor; batchSize?: number }): Promise<KeyRotationJob>;
  /** Stops this process's job after its current batch and waits until that is recorded (shutdown). */
  stop(): Promise<void>;
}

/** One per API process: it owns the background run, so shutdown can stop it cleanly. */
export function keyRotationRunner(deps: {
  db: Db;
  vault: Vault;
  log?: { error(obj: unknown, msg?: string): void };
}): KeyRotationRunner {
  const { db } = deps;
  let running: Promise<void> | undefined;
  let stopping = false;

  async function claim(mode: RotationMode, actor: Actor): Promise<string> {
    const id = `rot_${randomBytes(10).toString('hex')}`;
    await db.transaction().execute(async (tx) => {
      const stale = await tx
        .updateTable('key_rotation_jobs')
        .set({ status: 'interrupted', finished_at: new Date(), error: STALE_MESSAGE })
        .where('status', '=', 'running')
        .where(sql<boolean>`heartbeat_at < now() - make_interval(secs => ${sql.lit(STALE_SECONDS)})`)
        .returning('id')
        .execute();
      for (const s of stale)
        await recordAudit(tx, null, actor, {
          action: 'key_rotation.interrupted',
          targetType: 'key_rotation',
          targetId: s.id,
          after: { error: STALE_MESSAGE },
        });
      // The partial unique index makes this a no-op while any process runs a job.
      const inserted = await tx
        .insertInto('key_rotation_jobs')
        .values({ id, mode, status: 'running', started_by: actor.id })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) {
        const other = await tx
          .selectFrom('key_rotation_jobs')
          .select(['started_by', 'started_at'])
          .where('status', '=', 'running')
          .executeTakeFirst();
        throw conflict(
          `A key rotation is already running${other ? ` (started by ${other.started_by} at ${other.started_at.toISOString()})` : ''}. Wait for it to finish: System shows its progress.`,
        );
      }
      await recordAudit(tx, null, actor, {
        action: 'key_rotation.started',
        targetType: 'key_rotation',
        targetId: id,
        after: { mode },
      });
    });
    return id;
  }

  async function run(id: string, mode: RotationMode, actor: Actor, batchSize?: number): Promise<void> {
    let tables: TableProgress[] = [];
    /** Writes this job's row while it is still running; JobStopped when another process took it over. */
    const write = async (set: { version?: number; tables?: TableProgress[] }) => {
      const updated = await db
        .updateTable('key_rotation_jobs')
        .set({
          heartbeat_at: sql`now()`,
          ...(set.version === undefined ? {} : { version: set.version }),
          ...(set.tables ? { tables: JSON.stringify(set.tables) } : {}),
        })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) throw new JobStopped(STALE_MESSAGE);
    };
    const heartbeat = setInterval(() => {
      write({}).catch(() => {});
    }, HEARTBEAT_SECONDS * 1000);
    heartbeat.unref();

    let outcome: { status: 'finished' | 'failed' | 'interrupted'; error: string | null };
    let result: RotationResult | undefined;
    try {
      result = await rotateKey(db, deps.vault, {
        batchSize,
        reencryptOnly: mode === 'finish',
        onStart: async ({ version, pending }) => {
          tables = (Object.keys(pending) as RotatedTable[]).map((table) => ({
            table,
            total: pending[table],
            reencrypted: 0,
            failed: 0,
            remaining: null,
          }));
          await write({ version, tables });
        },
        onProgress: async (p) => {
          // PGlite answers without real I/O, so a run would otherwise hold the event loop from its first
          // batch to its last: requests (the progress polls among them) are served between batches.
          await nextTurn();
          if (stopping) throw new JobStopped(SHUTDOWN_MESSAGE);
          tables = tables.map((t) =>
            t.table === p.table
              ? // Rows written under the old key after the count make the run do more than it planned.
                {
                  ...t,
                  reencrypted: p.reencrypted,
                  failed: p.failed,
                  total: Math.max(t.total, p.reencrypted + p.failed),
                }
              : t,
          );
          await write({ tables });
        },
      });
      outcome = { status: 'finished', error: null };
    } catch (err) {
      if (err instanceof JobStopped) outcome = { status: 'interrupted', error: err.message };
      else {
        deps.log?.error({ err, job: id }, 'key rotation failed');
        // A wrong master key explains itself; anything else is named, with what to do next.
        const why =
          err instanceof VaultError
            ? err.message
            : `The rotation stopped with an error: ${String((err as Error)?.message ?? err)}.`;
        outcome = { status: 'failed', error: `${why} ${RESUME}` };
      }
    } finally {
      clearInterval(heartbeat);
    }
    if (result) {
      const done = result;
      tables = tables.map((t) => ({ ...t, remaining: done.remaining[RESULT_KEYS[t.table as RotatedTable]] }));
    }
    const failedRows = result?.failed ?? [];
    await db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('key_rotation_jobs')
        .set({
          status: outcome.status,
          finished_at: new Date(),
          tables: JSON.stringify(tables),
          failed_rows: JSON.stringify(failedRows),
          error: outcome.error,
        })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .executeTakeFirst();
      // Taken over as stale by another process, which has recorded that already.
      if (Number(updated.numUpdatedRows) === 0) return;
      await recordAudit(tx, null, actor, {
        action: `key_rotation.${outcome.status}`,
        targetType: 'key_rotation',
        targetId: id,
        after: {
          mode,
          version: result?.version ?? null,
          tables,
          failed_rows: failedRows.map(({ table, id: rowId, code }) => ({ table, id: rowId, code })),
          error: outcome.error,
        },
      });
    });
  }

  return {
    async start({ mode, actor, batchSize }) {
      if (stopping)
        throw new DomainError(
          'unavailable',
          'Plugboard is shutting down; start the rotation again once it is back.',
        );
      const id = await claim(mode, actor);
      running = run(id, mode, actor, batchSize)
        .catch((err) => deps.log?.error({ err, job: id }, 'recording the end of a key rotation failed'))
        .finally(() => {
          running = undefined;
        });
      const job = await findKeyRotation(db, id);
      if (!job) throw new Error(`key rotation job ${id} vanished`);
      return job;
    },
    async stop() {
      stopping = true;
      await running;
    },
  };
}
