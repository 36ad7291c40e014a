import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cliEnv, killCliServers, repoRoot, runCli, serveCli } from './support/cli.ts';

const dirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cli-'));
  dirs.push(dir);
  return dir;
}

const createSession = (url: string, key: string) =>
  fetch(`${url}/connect_sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ origin_owner_id: 'o', origin_owner_name: 'O' }),
  });

after(() => {
  killCliServers();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('plugboard CLI', () => {
  test('projects create --json, keys create/list/revoke, and the keys work against serve', async () => {
    const dir = tempDir();
    const created = await runCli(['projects', 'create', '--name', 'Acme', '--json'], cliEnv(dir));
    assert.equal(created.code, 0, created.stderr);
    const project = JSON.parse(created.stdout);
    assert.deepEqual(Object.keys(project).sort(), ['api_key', 'organization_id', 'project_id']);
    assert.equal(typeof project.organization_id, 'number');
    assert.match(project.project_id, /^proj_/);
    assert.match(project.api_key, /^pbk_/);

    const second = JSON.parse(
      (
        await runCli(
          ['keys', 'create', '--project', project.project_id, '--name', 'ci', '--json'],
          cliEnv(dir),
        )
      ).stdout,
    );
    assert.match(second.api_key, /^pbk_/);
    const listed = JSON.parse(
      (await runCli(['keys', 'list', '--project', project.project_id, '--json'], cliEnv(dir))).stdout,
    );
    assert.equal(listed.length, 2);
    assert.ok(!JSON.stringify(listed).includes(second.api_key), 'list shows hints, not keys');
    const revoked = await runCli(['keys', 'revoke', second.id], cliEnv(dir));
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await runCli(['keys', 'create', '--project', 'proj_missing'], cliEnv(dir))).code, 1);

    const server = await serveCli(dir);
    assert.equal((await createSession(server.url, project.api_key)).status, 201);
    assert.equal((await createSession(server.url, second.api_key)).status, 401, 'revoked key');

    // While serve holds the PGlite directory, another CLI process stops with a clear message.
    const blocked = await runCli(['projects', 'create', '--name', 'Other'], cliEnv(dir));
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /data directory .* in use/);
    assert.match(blocked.stderr, /DATABASE_URL/);
    assert.equal((await createSession(server.url, project.api_key)).status, 201, 'the server is unharmed');

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, 'SIGTERM shuts down cleanly');
    assert.equal(
      (await runCli(['projects', 'list', '--json'], cliEnv(dir))).code,
      0,
      'the lock is released on exit',
    );
  });

  test('first serve prints one API key once; the next start does not', async () => {
    const dir = tempDir();
    const first = await serveCli(dir);
    const keys = first.output().match(/pbk_[A-Za-z0-9_-]+/g) ?? [];
    assert.equal(keys.length, 1, first.output());
    assert.equal((await createSession(first.url, keys[0]!)).status, 201);
    first.child.kill('SIGTERM');
    await first.exited;
    const again = await serveCli(dir);
    assert.doesNotMatch(again.output(), /pbk_/);
    assert.equal((await createSession(again.url, keys[0]!)).status, 201);
    again.child.kill('SIGTERM');
    await again.exited;
  });

  test('PLUGBOARD_BOOTSTRAP_API_KEY becomes the default key and is not printed', async () => {
    const dir = tempDir();
    const chosen = 'my-container-key-0123456789abcdef';
    const server = await serveCli(dir, { PLUGBOARD_BOOTSTRAP_API_KEY: chosen });
    assert.doesNotMatch(server.output(), new RegExp(chosen));
    assert.match(server.output(), /PLUGBOARD_BOOTSTRAP_API_KEY/);
    assert.equal((await createSession(server.url, chosen)).status, 201);
    server.child.kill('SIGTERM');
    await server.exited;
  });

  test('npx plugboard works from the repository root', async () => {
    const dir = tempDir();
    const res = await runCli(
      ['plugboard', 'projects', 'create', '--name', 'Via npx', '--json'],
      cliEnv(dir),
      { command: 'npx', cwd: repoRoot },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(JSON.parse(res.stdout).api_key, /^pbk_/);
  });

  test('invalid configuration stops with a readable message', async () => {
    const res = await runCli(['migrate'], cliEnv(tempDir(), { PORT: 'eighty' }));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /PORT/);
    assert.doesNotMatch(res.stderr, /at .*\.ts:\d+/);
  });
});
