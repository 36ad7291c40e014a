import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  accountAad,
  integrationAad,
  openVault,
  type Vault,
  webhookEndpointAad,
} from '../../src/crypto/vault.ts';
import type { Db } from '../../src/db/database.ts';

// Rows holding encrypted secrets, written the way the API writes them, and a check that every one of
// them still decrypts: what the key rotation tests seed and assert on.

export interface Seeded {
  table: 'linked_accounts' | 'integrations' | 'webhook_endpoints';
  id: string;
  projectId: string;
  plaintext: string;
}

export const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

export async function seedProject(db: Db): Promise<{ organizationId: number; projectId: string }> {
  const org = await db
    .insertInto('organizations')
    .values({ name: 'Rotation Org' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const projectId = `proj_${randomBytes(6).toString('hex')}`;
  await db
    .insertInto('projects')
    .values({ id: projectId, organization_id: Number(org.id), name: 'Rotation' })
    .execute();
  return { organizationId: Number(org.id), projectId };
}

export async function insertAccount(
  db: Db,
  vault: Vault,
  project: { organizationId: number; projectId: string },
): Promise<Seeded> {
  const id = `acc_${randomBytes(8).toString('hex')}`;
  const plaintext = JSON.stringify({ access_token: secret('token') });
  const enc = vault.encrypt(plaintext, accountAad(project.projectId, id));
  await db
    .insertInto('linked_accounts')
    .values({
      id,
      organization_id: project.organizationId,
      project_id: project.projectId,
      provider: 'attio',
      origin_owner_id: 'owner',
      origin_owner_name: 'Owner',
      status: 'active',
      credentials_enc: enc.ciphertext,
      key_version: enc.keyVersion,
      updated_at: new Date('2024-01-02T03:04:05Z'),
    })
    .execute();
  return { table: 'linked_accounts', id, projectId: project.projectId, plaintext };
}

export async function insertIntegration(
  db: Db,
  vault: Vault,
  project: { projectId: string },
): Promise<Seeded> {
  const id = randomUUID();
  const plaintext = secret('client-secret');
  const enc = vault.encrypt(plaintext, integrationAad(project.projectId, id));
  await db
    .insertInto('integrations')
    .values({
      id,
      project_id: project.projectId,
      connector_key: 'hubspot',
      name: 'HubSpot',
      auth_method: 'oauth2',
      active: true,
      is_default: false,
      environment: 'production',
      oauth_client_id: 'client',
      oauth_client_secret_enc: enc.ciphertext,
      key_version: enc.keyVersion,
      updated_at: new Date('2024-01-02T03:04:05Z'),
    })
    .execute();
  return { table: 'integrations', id, projectId: project.projectId, plaintext };
}

export async function stored(db: Db, row: Seeded): Promise<{ enc: string | null; version: number | null }> {
  if (row.table === 'linked_accounts') {
    const r = await db
      .selectFrom('linked_accounts')
      .select(['credentials_enc as enc', 'key_version as version'])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    return r;
  }
  if (row.table === 'webhook_endpoints') {
    return db
      .selectFrom('webhook_endpoints')
      .select(['secret_enc as enc', 'key_version as version'])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
  }
  const r = await db
    .selectFrom('integrations')
    .select(['oauth_client_secret_enc as enc', 'key_version as version'])
    .where('id', '=', row.id)
    .executeTakeFirstOrThrow();
  return r;
}

/** Every row decrypts to what was written, with a vault opened afresh (as any other process would). */
export async function assertAllReadable(db: Db, masterKey: Buffer, rows: Seeded[], version?: number) {
  const reader = await openVault(db, masterKey);
  for (const row of rows) {
    const { enc, version: keyVersion } = await stored(db, row);
    assert.ok(enc, `${row.table} ${row.id} lost its secret`);
    assert.ok(!enc.includes(row.plaintext), 'plaintext in the stored column');
    assert.equal(enc.slice(0, enc.indexOf('.')), `v${keyVersion}`, 'key_version matches the envelope');
    if (version !== undefined) assert.equal(keyVersion, version, `${row.table} ${row.id} key_version`);
    const aad = {
      linked_accounts: accountAad,
      integrations: integrationAad,
      webhook_endpoints: webhookEndpointAad,
    }[row.table];
    assert.equal(await reader.decrypt(enc, aad(row.projectId, row.id)), row.plaintext);
  }
}
