import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DatabaseHandle, Db } from '../db/database.ts';

/**
 * Credential encryption with a versioned key ring (envelope encryption).
 *
 * Data-encryption keys (DEKs, 32 random bytes) live in `encryption_keys`, each wrapped (AES-256-GCM) by
 * the master key from configuration, with `plugboard:dek:<version>` as associated data so a wrapped key
 * cannot be passed off as another version. The newest non-retired version encrypts; every version
 * decrypts, and versions are never deleted, so a value written under an old key stays readable.
 *
 * Ciphertexts are `v<version>.<base64url(iv | tag | ciphertext)>` (12-byte random IV, 16-byte tag) with
 * the caller's `aad` — the row's ids, see accountAad / integrationAad — as associated data: a value
 * copied to another row, a wrong master key or any tampering fails with a VaultError, never garbage.
 *
 * Sync or async: encrypt() is synchronous. decrypt() always returns a Promise (callers await it, and
 * one shape is easier to use correctly than `string | Promise<string>`); it resolves without I/O when
 * the version is cached, and otherwise re-reads the ring once, because another process may have
 * rotated. decryptSync() never does I/O and throws `unknown_version` instead: use it while holding
 * PGlite's only connection in a transaction, where a ring re-read would wait for that transaction.
 *
 * Refresh policy: a process encrypts with the newest version it knows. It learns about a version added
 * elsewhere at once by notice (listenForKeyChanges, which `serve` and `worker` start), else when it
 * decrypts a value written with it, when refresh() runs, or on the timer that startVaultRefresh() starts
 * (every 30 s by default, for notices lost with a connection). Until then it keeps
 * writing with the previous key, which is harmless: that key stays in the ring, and
 * `plugboard rotate-key --finish` re-encrypts such rows.
 */

export type VaultErrorCode =
  | 'invalid_master_key'
  | 'master_key_mismatch'
  | 'no_active_key'
  | 'malformed'
  | 'unknown_version'
  | 'decrypt_failed';

export class VaultError extends Error {
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}

export interface Encrypted {
  /** `v<version>.<base64url(iv|tag|ciphertext)>` */
  ciphertext: string;
  /** Store it next to the ciphertext (`key_version` columns): rotation finds old rows by it. */
  keyVersion: number;
}

export interface Vault {
  /** Encrypts under the current key, binding the value to `aad` (use accountAad / integrationAad). */
  encrypt(plaintext: string, aad: string): Encrypted;
  /** Decrypts with the version named in the envelope; re-reads the ring once for an unknown version. */
  decrypt(ciphertext: string, aad: string): Promise<string>;
  /** decrypt() without any I/O: throws VaultError `unknown_version` if the version is not cached. */
  decryptSync(ciphertext: string, aad: string): string;
  encryptJson(value: unknown, aad: string): Encrypted;
  decryptJson<T = unknown>(ciphertext: string, aad: string): Promise<T>;
  /** The version encrypt() uses. */
  currentVersion(): number;
  /** Every version this instance can decrypt, ascending. */
  versions(): number[];
  /** Re-reads the key ring (versions added by a rotation in another process); concurrent calls share one read. */
  refresh(): Promise<void>;
  /**
   * Adds a new key (one above the highest existing version, retrying if another process takes that
   * number first), wrapped with this vault's master key, and makes it current here. Returns its version.
   */
  addKey(): Promise<number>;
}

/** Associated data for `linked_accounts.credentials_enc`. */
export const accountAad = (projectId: string, id: string) => `linked_accounts:${projectId}:${id}`;
/** Associated data for `integrations.oauth_client_secret_enc`. */
export const integrationAad = (projectId: string, id: string) => `integrations:${projectId}:${id}`;
export const webhookEndpointAad = (projectId: string, id: string) => `webhook_endpoints:${projectId}:${id}`;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const WRAP_AAD = 'plugboard:dek';
const ENVELOPE = /^v([1-9]\d{0,8})\.([A-Za-z0-9_-]+)$/;

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Returns undefined when authentication fails (wrong key, wrong aad, tampered bytes). */
function unseal(key: Buffer, sealed: Buffer, aad: string): Buffer | undefined {
  if (sealed.length < IV_BYTES + TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** The key version named by a ciphertext, without decrypting it. */
export function keyVersionOf(ciphertext: string): number {
  return parseEnvelope(ciphertext).version;
}

function parseEnvelope(ciphertext: string): { version: number; sealed: Buffer } {
  const match = typeof ciphertext === 'string' ? ENVELOPE.exec(ciphertext) : null;
  if (!match) {
    throw new VaultError(
      'malformed',
      'Not a Plugboard ciphertext: expected "v<version>.<base64url data>". The stored value was altered or is not encrypted.',
    );
  }
  return { version: Number(match[1]), sealed: Buffer.from(match[2]!, 'base64url') };
}

/**
 * Loads the key ring, creating version 1 when the table is empty. Several processes opening an empty
 * database at once race on one primary key: the insert that loses does nothing, and every process
 * then reads the same winning row.
 */
export async function openVault(db: Db, masterKey: Buffer): Promise<Vault> {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== KEY_BYTES) {
    throw new VaultError('invalid_master_key', 'The master key must be exactly 32 bytes.');
  }
  const keys = new Map<number, Buffer>();
  let current = 0;
  let inflight: Promise<void> | undefined;

  const load = async () => {
    const rows = await db
      .selectFrom('encryption_keys')
      .select(['version', 'wrapped_key', 'retired_at'])
      .orderBy('version')
      .execute();
    let active = 0;
    for (const row of rows) {
      if (!keys.has(row.version)) {
        const dek = unseal(
          masterKey,
          Buffer.from(row.wrapped_key, 'base64url'),
          `${WRAP_AAD}:${row.version}`,
        );
        if (!dek || dek.length !== KEY_BYTES) {
          throw new VaultError(
            'master_key_mismatch',
            `The master key cannot unwrap encryption key version ${row.version}: this database's key ring was created with a different master key. Set PLUGBOARD_MASTER_KEY (or restore master.key in the data directory) to the key this database was created with.`,
          );
        }
        keys.set(row.version, dek);
      }
      if (!row.retired_at) active = Math.max(active, row.version);
    }
    current = active;
  };
  const refresh = () => {
    inflight ??= load().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  await refresh();
  if (keys.size === 0) {
    await insertKey(db, masterKey, 1);
    await refresh();
  }
  if (current === 0) {
    throw new VaultError(
      'no_active_key',
      'Every key in the encryption key ring is retired; run `plugboard rotate-key` to add a current one.',
    );
  }

  const encrypt = (plaintext: string, aad: string): Encrypted => {
    const version = current;
    const key = keys.get(version);
    if (!key) throw new VaultError('no_active_key', 'The encryption key ring has no current key.');
    const sealed = seal(key, Buffer.from(plaintext, 'utf8'), aad);
    return { ciphertext: `v${version}.${sealed.toString('base64url')}`, keyVersion: version };
  };
  const decryptWith = (key: Buffer, version: number, sealed: Buffer, aad: string): string => {
    const plain = unseal(key, sealed, aad);
    if (!plain) {
      throw new VaultError(
        'decrypt_failed',
        `Decryption with key version ${version} failed: the stored value was altered, or was copied from another row than the one it is read for (its ids are bound to the ciphertext).`,
      );
    }
    return plain.toString('utf8');
  };
  const unknownVersion = (version: number) =>
    new VaultError(
      'unknown_version',
      `Key version ${version} is not in the key ring (known: ${[...keys.keys()].join(', ')}). The value was written by an installation with another key ring.`,
    );
  const decryptSync = (ciphertext: string, aad: string): string => {
    const { version, sealed } = parseEnvelope(ciphertext);
    const key = keys.get(version);
    if (!key) throw unknownVersion(version);
    return decryptWith(key, version, sealed, aad);
  };
  const decrypt = async (ciphertext: string, aad: string): Promise<string> => {
    const { version, sealed } = parseEnvelope(ciphertext);
    if (!keys.has(version)) await refresh();
    const key = keys.get(version);
    if (!key) throw unknownVersion(version);
    return decryptWith(key, version, sealed, aad);
  };

  return {
    encrypt,
    decrypt,
    decryptSync,
    encryptJson: (value, aad) => {
      const json = JSON.stringify(value);
      if (json === undefined) throw new TypeError('encryptJson needs a JSON-serialisable value.');
      return encrypt(json, aad);
    },
    decryptJson: async <T>(ciphertext: string, aad: string) =>
      JSON.parse(await decrypt(ciphertext, aad)) as T,
    currentVersion: () => current,
    versions: () => [...keys.keys()].sort((a, b) => a - b),
    refresh,
    addKey: async () => {
      await refresh();
      for (;;) {
        const next = Math.max(0, ...keys.keys()) + 1;
        const inserted = await insertKey(db, masterKey, next);
        await refresh();
        if (inserted) return next;
      }
    },
  };
}

/** Inserts a new wrapped key with this version; false when the version exists already. */
async function insertKey(db: Db, masterKey: Buffer, version: number): Promise<boolean> {
  const wrapped = seal(masterKey, randomBytes(KEY_BYTES), `${WRAP_AAD}:${version}`).toString('base64url');
  const result = await db
    .insertInto('encryption_keys')
    .values({ version, wrapped_key: wrapped })
    .onConflict((oc) => oc.column('version').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** The channel on which every change to the key ring is announced (migration 0015_key_ring_notice). */
export const KEY_RING_CHANNEL = 'plugboard_key_ring';

/**
 * Re-reads the key ring whenever another process (or the CLI) adds a key, so this process encrypts with
 * it from then on, not after its next timed refresh: fewer rows are left under the previous key for
 * `rotate-key --finish`. When the listener listens again after a lost connection, the ring is re-read
 * too, for a key added meanwhile; the timer (startVaultRefresh) stays as well.
 * Resolves to the function that stops listening.
 */
export function listenForKeyChanges(
  vault: Pick<Vault, 'refresh'>,
  listen: DatabaseHandle['listen'],
  onError: (err: unknown) => void = () => {},
): Promise<() => Promise<void>> {
  const refresh = () => void vault.refresh().catch(onError);
  return listen(KEY_RING_CHANNEL, refresh, { restored: refresh });
}

/**
 * Keeps a long-running process's key ring current, so it starts encrypting with a key another process
 * added within `everyMs`. Returns a function that stops the timer. The timer does not keep the process
 * alive; a failed refresh keeps the ring it has and is reported to `onError`.
 */
export function startVaultRefresh(
  vault: Pick<Vault, 'refresh'>,
  everyMs = 30_000,
  onError: (err: unknown) => void = () => {},
): () => void {
  const timer = setInterval(() => {
    vault.refresh().catch(onError);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
