import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Db } from '../db/database.ts';

/**
 * Credential encryption with a versioned key ring (envelope encryption).
 *
 * Data-encryption keys (DEKs) live in `encryption_keys`, each wrapped by the master key from
 * configuration; the newest non-retired version encrypts and every version decrypts. Ciphertexts are
 * `v<version>.<base64url(iv | tag | ciphertext)>` (AES-256-GCM, 12-byte IV, 16-byte tag) with the
 * row's ids as associated data, so a value copied to another row does not decrypt.
 *
 * encrypt() and decrypt() are synchronous on cached keys. A version this process has not seen yet
 * (another process rotated) is loaded by decrypt's async fallback; `refresh()` picks up a new current
 * key and is called on a timer by long-running processes (see startVaultRefresh).
 */
export class VaultError extends Error {}

export interface Encrypted {
  ciphertext: string;
  keyVersion: number;
}

export interface Vault {
  encrypt(plaintext: string, aad: string): Encrypted;
  decrypt(ciphertext: string, aad: string): Promise<string>;
  encryptJson(value: unknown, aad: string): Encrypted;
  decryptJson<T>(ciphertext: string, aad: string): Promise<T>;
  currentVersion(): number;
  /** Re-reads the key ring (new versions added by a rotation in another process). */
  refresh(): Promise<void>;
}

export const accountAad = (projectId: string, id: string) => `linked_accounts:${projectId}:${id}`;
export const integrationAad = (projectId: string, id: string) => `integrations:${projectId}:${id}`;

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new VaultError('Ciphertext is truncated.');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new VaultError('Decryption failed: wrong key, wrong row, or tampered data.');
  }
}

const WRAP_AAD = 'plugboard:dek';

function parseEnvelope(ciphertext: string): { version: number; sealed: Buffer } {
  const match = /^v(\d+)\.([A-Za-z0-9_-]+)$/.exec(ciphertext);
  if (!match) throw new VaultError('Not a Plugboard ciphertext (expected "v<version>.<data>").');
  return { version: Number(match[1]), sealed: Buffer.from(match[2]!, 'base64url') };
}

export async function openVault(db: Db, masterKey: Buffer): Promise<Vault> {
  if (masterKey.length !== 32) throw new VaultError('The master key must be exactly 32 bytes.');
  const keys = new Map<number, Buffer>();
  let current = 0;

  const load = async () => {
    const rows = await db.selectFrom('encryption_keys').selectAll().orderBy('version').execute();
    for (const row of rows) {
      if (!keys.has(row.version)) {
        const dek = open(masterKey, Buffer.from(row.wrapped_key, 'base64url'), `${WRAP_AAD}:${row.version}`);
        keys.set(row.version, dek);
      }
      if (!row.retired_at) current = Math.max(current, row.version);
    }
  };

  await load();
  if (keys.size === 0) {
    // First start: create version 1; a concurrent first start of another process wins or loses the
    // insert race harmlessly, and both then read the same row.
    await insertKey(db, masterKey, 1);
    await load();
  }
  if (current === 0) throw new VaultError('The key ring has no active key.');

  const encrypt = (plaintext: string, aad: string): Encrypted => {
    const key = keys.get(current)!;
    const sealed = seal(key, Buffer.from(plaintext, 'utf8'), aad);
    return { ciphertext: `v${current}.${sealed.toString('base64url')}`, keyVersion: current };
  };
  const decrypt = async (ciphertext: string, aad: string): Promise<string> => {
    const { version, sealed } = parseEnvelope(ciphertext);
    if (!keys.has(version)) await load();
    const key = keys.get(version);
    if (!key) throw new VaultError(`Unknown key version ${version}.`);
    return open(key, sealed, aad).toString('utf8');
  };
  return {
    encrypt,
    decrypt,
    encryptJson: (value, aad) => encrypt(JSON.stringify(value), aad),
    decryptJson: async (ciphertext, aad) => JSON.parse(await decrypt(ciphertext, aad)),
    currentVersion: () => current,
    refresh: load,
  };
}

/** Adds a new wrapped key with the given version; false if that version already exists. */
export async function insertKey(db: Db, masterKey: Buffer, version: number): Promise<boolean> {
  const dek = randomBytes(32);
  const wrapped = seal(masterKey, dek, `${WRAP_AAD}:${version}`).toString('base64url');
  const result = await db
    .insertInto('encryption_keys')
    .values({ version, wrapped_key: wrapped })
    .onConflict((oc) => oc.column('version').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Keeps a long-running process's key ring current; returns a stop function. */
export function startVaultRefresh(vault: Vault, everyMs = 30_000): () => void {
  const timer = setInterval(() => {
    vault.refresh().catch(() => {
      // A failed refresh keeps the old ring; the next tick tries again.
    });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
