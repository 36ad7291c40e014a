import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveMasterKey } from '../src/crypto/master-key.ts';
import { openVault } from '../src/crypto/vault.ts';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../src/db/database.ts';
import { rotateKey } from '../src/services/key-rotation.ts';
import { backends, createTestDatabase } from './support/backends.ts';
import { cliEnv, runCli } from './support/cli.ts';
import {
  assertAllReadable,
  insertAccount,
  insertIntegration,
  type Seeded,
  seedProject,
} from './support/encrypted-rows.ts';
import { filesContaining } from './support/files.ts';

// Key rotation with a data directory: what a rotated PGlite database leaves on disk, and the rotate-key
// command, which finds its database and master key (or the key file in the data directory) through the
// environment. rotateKey itself is covered by key-rotation.test.ts.

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-rotate-'));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

for (const backend of backends()) {
  describe(`key rotation with a data directory (${backend})`, () => {
    const masterKey = randomBytes(32);

    test('the PGlite data files never hold a secret in clear, before or after rotation', {
      skip: backend !== 'pglite' && 'PGlite only',
    }, async () => {
      const dir = tempDir();
      const rows: Seeded[] = [];
      const first = await createTestDatabase('pglite', dir);
      try {
        const vault = await openVault(first.db, masterKey);
        const project = await seedProject(first.db);
        for (let i = 0; i < 3; i++) rows.push(await insertAccount(first.db, vault, project));
        rows.push(await insertIntegration(first.db, vault, project));
        await rotateKey(first.db, vault, { batchSize: 2 });
        await assertAllReadable(first.db, masterKey, rows, 2);
      } finally {
        await first.close();
      }
      for (const row of rows) {
        const needle =
          row.table === 'linked_accounts' ? JSON.parse(row.plaintext).access_token : row.plaintext;
        assert.deepEqual(filesContaining(dir, needle), [], `${row.table} secret found on disk`);
      }
      for (const encoding of ['base64', 'base64url', 'hex'] as const) {
        assert.deepEqual(filesContaining(dir, masterKey.toString(encoding)), []);
      }
      // Reopened from disk with the same master key, every secret is still there.
      const second = await openDatabase({ databaseUrl: undefined, dataDir: dir });
      try {
        await assertAllReadable(second.db, masterKey, rows, 2);
      } finally {
        await second.close();
      }
    });

    test('plugboard rotate-key, from the command line', async () => {
      // The CLI gets its database and master key from the environment only, as in production.
      const dataDir = tempDir();
      const env = cliEnv(dataDir);
      const pg = backend === 'postgres' ? await createTestDatabase(backend) : undefined;
      try {
        let key: Buffer;
        const open = async () => pg ?? (await openDatabase({ databaseUrl: undefined, dataDir }));
        const release = async (h: DatabaseHandle) => {
          // PGlite: give the data directory back, as a stopped server would.
          if (h !== pg) await h.close();
        };
        if (pg) {
          key = masterKey;
          env.DATABASE_URL = pg.url!;
          env.PLUGBOARD_MASTER_KEY = masterKey.toString('hex');
        } else {
          // Zero configuration: the key file in the data directory, created on first use.
          key = resolveMasterKey({ masterKey: undefined, dataDir }).key;
        }
        const rows: Seeded[] = [];
        const seed = await open();
        try {
          await migrateToLatest(seed.db);
          const vault = await openVault(seed.db, key);
          const project = await seedProject(seed.db);
          for (let i = 0; i < 3; i++) rows.push(await insertAccount(seed.db, vault, project));
          rows.push(await insertIntegration(seed.db, vault, project));
        } finally {
          await release(seed);
        }

        const run = await runCli(['rotate-key', '--json', '--batch-size', '2'], env);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stderr, '');
        assert.deepEqual(JSON.parse(run.stdout), {
          version: 2,
          added: true,
          accounts: 3,
          integrations: 1,
          webhook_endpoints: 0,
          remaining: { accounts: 0, integrations: 0, webhook_endpoints: 0 },
          failed: [],
        });

        const finish = await runCli(['rotate-key', '--finish'], env);
        assert.equal(finish.code, 0, finish.stderr);
        assert.match(finish.stdout, /^Key version 2 is current; re-encrypted 0 account\(s\), 0 /);

        const wrongKey = { ...env, PLUGBOARD_MASTER_KEY: randomBytes(32).toString('hex') };
        const wrong = await runCli(['rotate-key'], wrongKey);
        assert.equal(wrong.code, 1);
        assert.match(wrong.stderr, /^plugboard: The master key cannot unwrap encryption key version 1/);
        assert.match(wrong.stderr, /PLUGBOARD_MASTER_KEY/);
        assert.ok(!wrong.stderr.includes('    at '), 'one clear line, no stack trace');

        if (pg) {
          const { PLUGBOARD_MASTER_KEY: _unset, ...noKey } = env;
          const fileKey = await runCli(['rotate-key'], noKey);
          assert.match(fileKey.stderr, /warning: PLUGBOARD_MASTER_KEY is not set/);
          assert.equal(fileKey.code, 1, 'a fresh key file does not match this database');
        }

        const check = await open();
        try {
          await assertAllReadable(check.db, key, rows, 2);
          const keys = await check.db.selectFrom('encryption_keys').select('version').execute();
          assert.equal(keys.length, 2, 'failed runs added no key');
        } finally {
          await release(check);
        }
      } finally {
        await pg?.close();
      }
    });
  });
}
