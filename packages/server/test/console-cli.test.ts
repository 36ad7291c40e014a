import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { openDatabase } from '../src/db/database.ts';
import { verifyPassword } from '../src/services/console/passwords.ts';
import { bin, cliEnv, repoRoot, runCli } from './support/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-operators-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function runWithStdin(
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: cliEnv(dir) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function storedHash(email: string): Promise<{ hash: string; mustChange: boolean }> {
  const handle = await openDatabase({ databaseUrl: undefined, dataDir: dir });
  try {
    const row = await handle.db
      .selectFrom('operators')
      .select(['password_hash', 'must_change_password'])
      .where('email', '=', email)
      .executeTakeFirstOrThrow();
    return { hash: row.password_hash, mustChange: row.must_change_password };
  } finally {
    await handle.close();
  }
}

describe('plugboard operators', () => {
  test('npx plugboard operators create --json prints the email and a one-time password, stored as scrypt', async () => {
    const res = await runCli(
      ['plugboard', 'operators', 'create', '--email', 'Ops@Example.com', '--json'],
      cliEnv(dir),
      {
        command: 'npx',
        cwd: repoRoot,
      },
    );
    assert.equal(res.code, 0, res.stderr);
    const printed = JSON.parse(res.stdout);
    assert.deepEqual(Object.keys(printed), ['email', 'password']);
    assert.equal(printed.email, 'ops@example.com');
    assert.ok(printed.password.length >= 20);
    const { hash, mustChange } = await storedHash('ops@example.com');
    assert.match(hash, /^scrypt\$32768\$8\$1\$/);
    assert.ok(!hash.includes(printed.password));
    assert.equal(await verifyPassword(printed.password, hash), true);
    assert.equal(await verifyPassword(`${printed.password}x`, hash), false);
    assert.equal(mustChange, true);

    const again = await runCli(['operators', 'create', '--email', 'ops@example.com'], cliEnv(dir));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  });

  test('--password-stdin takes the password from standard input and prints none', async () => {
    const res = await runWithStdin(
      ['operators', 'create', '--email', 'ci@example.com', '--password-stdin', '--json'],
      'chosen passphrase 42\n',
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), { email: 'ci@example.com' });
    const { hash, mustChange } = await storedHash('ci@example.com');
    assert.equal(await verifyPassword('chosen passphrase 42', hash), true);
    assert.equal(mustChange, false);

    const short = await runWithStdin(
      ['operators', 'create', '--email', 'x@example.com', '--password-stdin'],
      'short\n',
    );
    assert.equal(short.code, 1);
    assert.match(short.stderr, /at least 12 characters/);
  });
});
