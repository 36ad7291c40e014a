import { accountAad, insertKey, integrationAad, type Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';

export interface RotationResult {
  version: number;
  accounts: number;
  integrations: number;
}

/**
 * Online key rotation: add a new current key, then re-encrypt rows still under older versions in
 * small batches. Each batch is one transaction that locks only its rows (SKIP LOCKED), so the API
 * keeps reading and writing meanwhile. Old keys stay in the ring: a row another process writes with
 * the previous key during the rotation remains readable, and the next run re-encrypts it.
 */
export async function rotateKey(
  db: Db,
  vault: Vault,
  masterKey: Buffer,
  options: { batchSize?: number; reencryptOnly?: boolean } = {},
): Promise<RotationResult> {
  const batchSize = options.batchSize ?? 200;
  if (!options.reencryptOnly) {
    await vault.refresh();
    // Concurrent rotations race for the next version; the loser simply retries with the one after.
    while (!(await insertKey(db, masterKey, vault.currentVersion() + 1))) await vault.refresh();
    await vault.refresh();
  }
  const version = vault.currentVersion();
  const accounts = await reencrypt(batchSize, async () =>
    db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('linked_accounts')
        .select(['id', 'project_id', 'credentials_enc'])
        .where('credentials_enc', 'is not', null)
        .where('key_version', '<', version)
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows) {
        const aad = accountAad(row.project_id, row.id);
        const next = vault.encrypt(await vault.decrypt(row.credentials_enc!, aad), aad);
        await tx
          .updateTable('linked_accounts')
          .set({ credentials_enc: next.ciphertext, key_version: next.keyVersion })
          .where('id', '=', row.id)
          .execute();
      }
      return rows.length;
    }),
  );
  const integrations = await reencrypt(batchSize, async () =>
    db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('integrations')
        .select(['id', 'project_id', 'oauth_client_secret_enc'])
        .where('oauth_client_secret_enc', 'is not', null)
        .where('key_version', '<', version)
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows) {
        const aad = integrationAad(row.project_id, row.id);
        const next = vault.encrypt(await vault.decrypt(row.oauth_client_secret_enc!, aad), aad);
        await tx
          .updateTable('integrations')
          .set({ oauth_client_secret_enc: next.ciphertext, key_version: next.keyVersion })
          .where('id', '=', row.id)
          .execute();
      }
      return rows.length;
    }),
  );
  return { version, accounts, integrations };
}

/** Runs batches until one comes back short of a full batch. */
async function reencrypt(batchSize: number, batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await batch();
    total += done;
    if (done < batchSize) return total;
  }
}
