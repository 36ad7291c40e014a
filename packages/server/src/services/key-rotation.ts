import type { Kysely } from 'kysely';
import {
  accountAad,
  type Encrypted,
  integrationAad,
  type Vault,
  VaultError,
  webhookEndpointAad,
} from '../crypto/vault.ts';
import type { Db, Tx } from '../db/database.ts';

export type RotatedTable = 'linked_accounts' | 'integrations' | 'webhook_endpoints';

export interface RotationProgress {
  table: RotatedTable;
  /** Rows of this table re-encrypted so far. */
  reencrypted: number;
  /** Rows of this table that failed to decrypt so far (left as they are). */
  failed: number;
}

export interface RotationOptions {
  /** Rows per transaction (default 200). Small batches keep row locks short. */
  batchSize?: number;
  /** Do not add a key; only re-encrypt rows still under versions older than the current one. */
  reencryptOnly?: boolean;
  /**
   * Called once the target version is known, before the first batch, with how many rows of each table
   * are under an older version (what a progress bar counts towards); awaited. Throwing stops the run.
   */
  onStart?: (start: { version: number; pending: Record<RotatedTable, number> }) => void | Promise<void>;
  /**
   * Called after every batch that re-encrypted something, once the batch has committed; awaited.
   * Throwing stops the run there: committed batches stay re-encrypted, the rest is left for --finish.
   */
  onProgress?: (progress: RotationProgress) => void | Promise<void>;
}

export interface RotationResult {
  /** The current key version every re-encrypted row now uses. */
  version: number;
  /** Whether this run added that version (false with reencryptOnly). */
  added: boolean;
  /** Rows re-encrypted. */
  accounts: number;
  integrations: number;
  webhook_endpoints: number;
  /**
   * Rows still under an older key when the run ended: written meanwhile by a process that had not yet
   * picked up the new key, or locked by a transaction at the time. They stay readable; run again with
   * reencryptOnly (`plugboard rotate-key --finish`) to re-encrypt them.
   */
  remaining: { accounts: number; integrations: number; webhook_endpoints: number };
  /** Rows that did not decrypt (tampered, or from another key ring): left untouched, listed for a human. */
  failed: Array<{ table: RotatedTable; id: string; code: string; message: string }>;
}

interface LockedRow {
  id: string;
  project_id: string;
  enc: string;
}

interface TableSpec {
  table: RotatedTable;
  aad(projectId: string, id: string): string;
  /** Locks up to `limit` rows under versions older than `version`, skipping rows others have locked. */
  lock(tx: Tx, version: number, limit: number, exclude: string[]): Promise<LockedRow[]>;
  store(tx: Tx, id: string, encrypted: Encrypted): Promise<void>;
  countOlder(db: Db, version: number): Promise<number>;
}

/**
 * The three tables holding vault ciphertexts, each with a `key_version` column naming the key that
 * encrypted `column`. (Kysely cannot type a table chosen at run time; the names come from this list.)
 */
function tableSpec(
  table: RotatedTable,
  column: 'credentials_enc' | 'oauth_client_secret_enc' | 'secret_enc',
  aad: (projectId: string, id: string) => string,
): TableSpec {
  // biome-ignore lint/suspicious/noExplicitAny: see above; every use below names existing columns.
  const olderThan = (eb: any, version: number) =>
    eb.and([
      eb(column, 'is not', null),
      eb.or([eb('key_version', '<', version), eb('key_version', 'is', null)]),
    ]);
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  const from = (db: Db | Tx) => db as unknown as Kysely<any>;
  return {
    table,
    aad,
    lock: async (tx, version, limit, exclude) => {
      const rows = await from(tx)
        .selectFrom(table)
        .select(['id', 'project_id', `${column} as enc`])
        .where((eb) => olderThan(eb, version))
        .$if(exclude.length > 0, (qb) => qb.where('id', 'not in', exclude))
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute();
      return rows as LockedRow[];
    },
    store: async (tx, id, encrypted) => {
      await from(tx)
        .updateTable(table)
        .set({ [column]: encrypted.ciphertext, key_version: encrypted.keyVersion })
        .where('id', '=', id)
        .execute();
    },
    countOlder: async (db, version) => {
      const row = await from(db)
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where((eb) => olderThan(eb, version))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

const accounts = tableSpec('linked_accounts', 'credentials_enc', accountAad);
const integrations = tableSpec('integrations', 'oauth_client_secret_enc', integrationAad);
// Only the current signing secret: a rotated-out one lives at most the overlap and stays readable.
const webhookEndpoints = tableSpec('webhook_endpoints', 'secret_enc', webhookEndpointAad);

/**
 * Online key rotation: adds version N+1 as the current key, then re-encrypts every stored secret under
 * an older version in small batches. Each batch is one transaction that locks only its own rows with
 * `FOR UPDATE SKIP LOCKED`, so the API keeps reading and writing meanwhile and a row a request holds is
 * simply left for a later batch or run. Batches continue until one comes back short, which also
 * catches most rows other processes write with the previous key while the rotation runs.
 *
 * Old keys are never deleted, so nothing becomes unreadable at any point: processes that have not yet
 * refreshed their ring (a notice makes that immediate: listenForKeyChanges) keep writing with the previous key, and those rows are
 * reported in `remaining` for a second run with `reencryptOnly`.
 *
 * Short-lived OAuth state (`oauth_states.code_verifier_enc`, minutes) is not re-encrypted: it expires
 * under the key it was written with, which stays in the ring.
 */
export async function rotateKey(
  db: Db,
  vault: Vault,
  options: RotationOptions = {},
): Promise<RotationResult> {
  const batchSize = options.batchSize ?? 200;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError('batchSize must be a positive whole number.');
  }
  let added = false;
  if (options.reencryptOnly) {
    await vault.refresh();
  } else {
    await vault.addKey();
    added = true;
  }
  const version = vault.currentVersion();
  if (options.onStart) {
    await options.onStart({
      version,
      pending: {
        linked_accounts: await accounts.countOlder(db, version),
        integrations: await integrations.countOlder(db, version),
        webhook_endpoints: await webhookEndpoints.countOlder(db, version),
      },
    });
  }
  const failed: RotationResult['failed'] = [];
  const done = {
    accounts: await reencryptTable(db, vault, accounts, version, batchSize, failed, options.onProgress),
    integrations: await reencryptTable(
      db,
      vault,
      integrations,
      version,
      batchSize,
      failed,
      options.onProgress,
    ),
    webhook_endpoints: await reencryptTable(
      db,
      vault,
      webhookEndpoints,
      version,
      batchSize,
      failed,
      options.onProgress,
    ),
  };
  return {
    version,
    added,
    ...done,
    remaining: {
      accounts: await accounts.countOlder(db, version),
      integrations: await integrations.countOlder(db, version),
      webhook_endpoints: await webhookEndpoints.countOlder(db, version),
    },
    failed,
  };
}

async function reencryptTable(
  db: Db,
  vault: Vault,
  spec: TableSpec,
  version: number,
  batchSize: number,
  failed: RotationResult['failed'],
  onProgress: RotationOptions['onProgress'],
): Promise<number> {
  const skip: string[] = [];
  let reencrypted = 0;
  for (;;) {
    // The ring is read before the transaction: on PGlite the transaction holds the only connection.
    await vault.refresh();
    const batch = await db.transaction().execute(async (tx) => {
      const rows = await spec.lock(tx, version, batchSize, skip);
      const bad: RotationResult['failed'] = [];
      let count = 0;
      for (const row of rows) {
        const aad = spec.aad(row.project_id, row.id);
        let plaintext: string;
        try {
          plaintext = vault.decryptSync(row.enc, aad);
        } catch (err) {
          if (!(err instanceof VaultError)) throw err;
          bad.push({ table: spec.table, id: row.id, code: err.code, message: err.message });
          continue;
        }
        await spec.store(tx, row.id, vault.encrypt(plaintext, aad));
        count++;
      }
      return { selected: rows.length, count, bad };
    });
    reencrypted += batch.count;
    for (const f of batch.bad) {
      failed.push(f);
      skip.push(f.id);
    }
    if (batch.selected > 0) {
      await onProgress?.({
        table: spec.table,
        reencrypted,
        failed: failed.filter((f) => f.table === spec.table).length,
      });
    }
    // A short batch means the table had caught up when it was read; what other processes write or
    // lock after that is counted in `remaining`. Stopping there keeps the run finite even while
    // processes that have not refreshed yet keep writing with the old key.
    if (batch.selected < batchSize) return reencrypted;
  }
}
