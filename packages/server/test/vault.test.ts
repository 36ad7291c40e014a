import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { resolveMasterKey } from '../src/crypto/master-key.ts';
import {
  accountAad,
  integrationAad,
  keyVersionOf,
  listenForKeyChanges,
  openVault,
  startVaultRefresh,
  type Vault,
  VaultError,
} from '../src/crypto/vault.ts';
import { type DatabaseHandle, openDatabase } from '../src/db/database.ts';
import { backends, createTestDatabase } from './support/backends.ts';

const isVaultError = (code: string) => (err: unknown) => {
  assert.ok(err instanceof VaultError, `expected a VaultError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return true;
};

/** Flips one bit of the decoded envelope at `index` (0–11 IV, 12–27 tag, 28+ ciphertext). */
function flip(ciphertext: string, index: number): string {
  const [prefix, data] = ciphertext.split('.') as [string, string];
  const bytes = Buffer.from(data, 'base64url');
  bytes[index]! ^= 0x01;
  return `${prefix}.${bytes.toString('base64url')}`;
}

for (const backend of backends()) {
  describe(`vault (${backend})`, () => {
    let database: DatabaseHandle & { url?: string };
    let vault: Vault;
    const masterKey = randomBytes(32);
    const aad = accountAad('proj_a', 'acc_1');

    before(async () => {
      database = await createTestDatabase(backend);
      vault = await openVault(database.db, masterKey);
    });
    after(async () => {
      await database.close();
    });

    test('the first open creates key version 1, wrapped, not stored in clear', async () => {
      const rows = await database.db.selectFrom('encryption_keys').selectAll().execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.version, 1);
      assert.equal(rows[0]!.retired_at, null);
      // 12-byte IV + 16-byte tag + 32-byte key.
      assert.equal(Buffer.from(rows[0]!.wrapped_key, 'base64url').length, 60);
      assert.equal(vault.currentVersion(), 1);
      assert.deepEqual(vault.versions(), [1]);
    });

    test('round trip, with the envelope format v1.<base64url> and a fresh IV every time', async () => {
      const secret = 'sk_live_ünïcødé 🔑';
      const a = vault.encrypt(secret, aad);
      const b = vault.encrypt(secret, aad);
      assert.equal(a.keyVersion, 1);
      assert.match(a.ciphertext, /^v1\.[A-Za-z0-9_-]+$/);
      assert.notEqual(a.ciphertext, b.ciphertext);
      assert.ok(!a.ciphertext.includes(secret));
      assert.equal(keyVersionOf(a.ciphertext), 1);
      // iv (12) + tag (16) + the UTF-8 bytes
      assert.equal(Buffer.from(a.ciphertext.slice(3), 'base64url').length, 28 + Buffer.byteLength(secret));
      assert.equal(await vault.decrypt(a.ciphertext, aad), secret);
      assert.equal(vault.decryptSync(b.ciphertext, aad), secret);
      assert.equal(await vault.decrypt(vault.encrypt('', aad).ciphertext, aad), '');
    });

    test('JSON helpers round-trip credential objects', async () => {
      const creds = { access_token: 'tok', nested: { n: 1, list: [true, null] } };
      const enc = vault.encryptJson(creds, aad);
      assert.match(enc.ciphertext, /^v1\./);
      assert.deepEqual(await vault.decryptJson(enc.ciphertext, aad), creds);
      assert.throws(() => vault.encryptJson(undefined, aad), TypeError);
    });

    test('a ciphertext copied to another row (other aad) does not decrypt', async () => {
      const { ciphertext } = vault.encrypt('secret', accountAad('proj_a', 'acc_1'));
      for (const other of [
        accountAad('proj_a', 'acc_2'),
        accountAad('proj_b', 'acc_1'),
        integrationAad('proj_a', 'acc_1'),
        '',
      ]) {
        await assert.rejects(vault.decrypt(ciphertext, other), isVaultError('decrypt_failed'));
        assert.throws(() => vault.decryptSync(ciphertext, other), isVaultError('decrypt_failed'));
      }
    });

    test('tampering with the IV, the tag, the data or the version fails loudly', async () => {
      const { ciphertext } = vault.encrypt('a secret long enough to tamper with', aad);
      for (const index of [0, 11, 12, 27, 28, 40]) {
        await assert.rejects(vault.decrypt(flip(ciphertext, index), aad), isVaultError('decrypt_failed'));
      }
      const data = ciphertext.slice(3);
      await assert.rejects(vault.decrypt(`v1.${data.slice(0, 30)}`, aad), isVaultError('decrypt_failed'));
      await assert.rejects(vault.decrypt('v1.', aad), isVaultError('malformed'));
      await assert.rejects(vault.decrypt(data, aad), isVaultError('malformed'));
      await assert.rejects(vault.decrypt(`v1.${data}=`, aad), isVaultError('malformed'));
      await assert.rejects(vault.decrypt(`v0.${data}`, aad), isVaultError('malformed'));
      await assert.rejects(vault.decrypt('plain text', aad), isVaultError('malformed'));
      // A version the ring does not hold, even after re-reading it.
      await assert.rejects(vault.decrypt(`v99.${data}`, aad), isVaultError('unknown_version'));
      assert.throws(() => vault.decryptSync(`v99.${data}`, aad), isVaultError('unknown_version'));
    });

    test('a wrong master key cannot open the ring, and says how to fix it', async () => {
      await assert.rejects(openVault(database.db, randomBytes(32)), (err: unknown) => {
        isVaultError('master_key_mismatch')(err);
        assert.match((err as Error).message, /PLUGBOARD_MASTER_KEY/);
        return true;
      });
      await assert.rejects(openVault(database.db, randomBytes(16)), isVaultError('invalid_master_key'));
    });

    test('a second instance (another process) shares the ring and reads what the first wrote', async () => {
      const other = await openVault(database.db, masterKey);
      assert.equal((await database.db.selectFrom('encryption_keys').selectAll().execute()).length, 1);
      const { ciphertext } = vault.encryptJson({ k: 'v' }, aad);
      assert.deepEqual(await other.decryptJson(ciphertext, aad), { k: 'v' });
      assert.equal(await vault.decrypt(other.encrypt('back', aad).ciphertext, aad), 'back');
    });

    test('a key added elsewhere is picked up by decrypt (one ring re-read) and by refresh', async () => {
      const rotator = await openVault(database.db, masterKey);
      const stale = await openVault(database.db, masterKey);
      const version = await rotator.addKey();
      assert.equal(version, vault.currentVersion() + 1);
      assert.equal(rotator.currentVersion(), version);
      assert.equal(stale.currentVersion(), version - 1, 'the other process has not looked yet');
      // Until it refreshes, the stale process writes with the previous key; that stays readable everywhere.
      const old = stale.encrypt('written with the old key', aad);
      assert.equal(old.keyVersion, version - 1);
      assert.equal(await rotator.decrypt(old.ciphertext, aad), 'written with the old key');

      const fresh = rotator.encrypt('new', aad);
      assert.match(fresh.ciphertext, new RegExp(`^v${version}\\.`));
      assert.throws(() => vault.decryptSync(fresh.ciphertext, aad), isVaultError('unknown_version'));
      assert.equal(await vault.decrypt(fresh.ciphertext, aad), 'new');
      assert.equal(vault.currentVersion(), version, 'the re-read also moved the current key');

      await stale.refresh();
      assert.equal(stale.currentVersion(), version);
      assert.deepEqual(stale.versions(), rotator.versions());
    });

    test('startVaultRefresh keeps a process current until stopped', async () => {
      const watcher = await openVault(database.db, masterKey);
      const rotator = await openVault(database.db, masterKey);
      let refreshed!: () => void;
      const sawNewKey = new Promise<void>((resolve) => {
        refreshed = resolve;
      });
      const version = await rotator.addKey();
      const stop = startVaultRefresh(
        {
          refresh: async () => {
            await watcher.refresh();
            if (watcher.currentVersion() === version) refreshed();
          },
        },
        5,
      );
      try {
        await sawNewKey;
        assert.equal(watcher.encrypt('x', aad).keyVersion, version);
      } finally {
        stop();
      }
    });

    test('a key added elsewhere is picked up at once by notice, without the timer', async () => {
      const watcher = await openVault(database.db, masterKey);
      const rotator = await openVault(database.db, masterKey);
      const stop = await listenForKeyChanges(watcher, database.listen);
      try {
        const version = await rotator.addKey();
        // No timer runs and the watcher decrypts nothing: only the notice can move it. Bounded wait.
        const deadline = Date.now() + 10_000;
        while (watcher.currentVersion() !== version) {
          if (Date.now() > deadline) assert.fail('the new key was not picked up within 10 s');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal(watcher.encrypt('x', aad).keyVersion, version);
      } finally {
        await stop();
      }
    });

    test('concurrent first opens of an empty database create exactly one key', async () => {
      const fresh = await createTestDatabase(backend);
      // On PostgreSQL each "process" gets its own connection pool, so the opens really race.
      const extra: DatabaseHandle[] = [];
      try {
        const handles: DatabaseHandle[] = [fresh];
        if (fresh.url) {
          for (let i = 0; i < 5; i++) {
            const h = await openDatabase({ databaseUrl: fresh.url, dataDir: 'memory', poolSize: 2 });
            extra.push(h);
            handles.push(h);
          }
        }
        const vaults = await Promise.all([...handles, ...handles].map((h) => openVault(h.db, masterKey)));
        const rows = await fresh.db.selectFrom('encryption_keys').selectAll().execute();
        assert.equal(rows.length, 1);
        const { ciphertext } = vaults[0]!.encrypt('shared', aad);
        for (const v of vaults) {
          assert.equal(v.currentVersion(), 1);
          assert.equal(await v.decrypt(ciphertext, aad), 'shared');
        }
      } finally {
        for (const h of extra) await h.close();
        await fresh.close();
      }
    });
  });
}

describe('master key', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-mk-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('PLUGBOARD_MASTER_KEY is read as hex or base64 and must be 32 bytes', () => {
    const key = randomBytes(32);
    assert.deepEqual(loadConfig({ PLUGBOARD_MASTER_KEY: key.toString('hex') }).masterKey, key);
    assert.deepEqual(loadConfig({ PLUGBOARD_MASTER_KEY: key.toString('base64') }).masterKey, key);
    assert.equal(loadConfig({}).masterKey, undefined);
    assert.throws(() => loadConfig({ PLUGBOARD_MASTER_KEY: randomBytes(16).toString('hex') }), /32 bytes/);
    assert.throws(() => loadConfig({ PLUGBOARD_MASTER_KEY: 'correct horse battery staple' }), /32 bytes/);
  });

  test('the configured key wins; without it a 0600 key file is created once and reused', () => {
    const dataDir = path.join(tempDir(), 'nested');
    const key = randomBytes(32);
    assert.deepEqual(resolveMasterKey({ masterKey: key, dataDir }), { key, source: 'env' });
    assert.ok(!fs.existsSync(dataDir), 'no file is written when the key is configured');

    const first = resolveMasterKey({ masterKey: undefined, dataDir });
    assert.equal(first.source, 'file');
    assert.equal(first.key.length, 32);
    assert.equal(first.warning, undefined);
    const file = path.join(dataDir, 'master.key');
    assert.equal(first.file, file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dataDir), ['master.key'], 'no temporary file is left behind');
    assert.deepEqual(resolveMasterKey({ masterKey: undefined, dataDir }).key, first.key);
  });

  test('a key file with PostgreSQL comes with a warning; a broken file is refused', () => {
    const dataDir = tempDir();
    const resolved = resolveMasterKey({
      masterKey: undefined,
      dataDir,
      databaseUrl: 'postgres://db.example/plugboard',
    });
    assert.match(resolved.warning ?? '', /PLUGBOARD_MASTER_KEY/);
    fs.writeFileSync(path.join(dataDir, 'master.key'), 'too short');
    assert.throws(() => resolveMasterKey({ masterKey: undefined, dataDir }), /32-byte key/);
  });
});
