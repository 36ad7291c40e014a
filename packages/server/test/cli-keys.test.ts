import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cliEnv, killCliServers, repoRoot, runCli, serveCli } from './support/cli.ts';

const dirs: string[] = [];

const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cli-keys-'));
  dirs.push(dir);
  return dir;
};

const createSession = (url: string, key: string) =>
  fetch(`${url}/connect_sessions`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ origin_owner_id: 'o', origin_owner_name: 'O' }),
  });

after(() => {
  killCliServers();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('plugboard CLI: keys, npx and the data directory lock', () => {
  test('npx plugboard projects create --json prints exactly the documented object, and the key works', async () => {
    const dir = tempDir();
    const res = await runCli(['plugboard', 'projects', 'create', '--name', 'Npx', '--json'], cliEnv(dir), {
      command: 'npx',
      cwd: repoRoot,
    });
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'one line of JSON, nothing else on stdout');
    const project = JSON.parse(lines[0]!);
    assert.deepEqual(Object.keys(project), ['organization_id', 'project_id', 'api_key']);
    assert.ok(Number.isSafeInteger(project.organization_id));
    assert.equal(typeof project.project_id, 'string');
    assert.match(project.api_key, /^pbk_[A-Za-z0-9_-]{43}$/);

    const server = await serveCli(dir);
    assert.equal((await createSession(server.url, project.api_key)).status, 201);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });

  test('keys list reflects a revocation; revoking an unknown key fails cleanly', async () => {
    const dir = tempDir();
    const project = JSON.parse(
      (await runCli(['projects', 'create', '--name', 'K', '--json'], cliEnv(dir))).stdout,
    );
    const extra = JSON.parse(
      (await runCli(['keys', 'create', '--project', project.project_id, '--json'], cliEnv(dir))).stdout,
    );
    const revoke = await runCli(['keys', 'revoke', extra.id, '--json'], cliEnv(dir));
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.ok(!Number.isNaN(Date.parse(JSON.parse(revoke.stdout).revoked_at)));
    const listed: Array<{ id: string; revoked_at: string | null; hint: string }> = JSON.parse(
      (await runCli(['keys', 'list', '--project', project.project_id, '--json'], cliEnv(dir))).stdout,
    );
    assert.equal(listed.length, 2);
    assert.ok(listed.find((k) => k.id === extra.id)?.revoked_at, 'the revoked key is marked');
    assert.equal(listed.find((k) => k.id !== extra.id)?.revoked_at, null, 'the first key is active');
    assert.ok(!JSON.stringify(listed).includes(project.api_key.slice(12)), 'no key in the listing');

    const unknown = await runCli(['keys', 'revoke', 'key_doesnotexist'], cliEnv(dir));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /key_doesnotexist/);
    assert.doesNotMatch(unknown.stderr, /\.ts:\d+/, 'a message, not a stack trace');
    const noName = await runCli(['projects', 'create'], cliEnv(dir));
    assert.notEqual(noName.code, 0);
    assert.match(noName.stderr, /--name/);
  });

  test('serve on a port that is taken stops with a one-line message, not a stack trace', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const res = await runCli(['serve'], cliEnv(tempDir(), { HOST: '127.0.0.1', PORT: String(port) }));
      assert.equal(res.code, 1);
      assert.match(res.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*already in use.*PORT`));
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  test('while serve holds the data directory, every database command stops with a clear message', async () => {
    const dir = tempDir();
    const server = await serveCli(dir);
    const key = server.output().match(/pbk_[A-Za-z0-9_-]{43}/)?.[0];
    assert.ok(key, server.output());
    for (const args of [
      ['projects', 'create', '--name', 'X', '--json'],
      ['projects', 'list'],
      ['keys', 'list', '--project', 'proj_x'],
      ['migrate'],
    ]) {
      const res = await runCli(args, cliEnv(dir));
      assert.notEqual(res.code, 0, args.join(' '));
      assert.equal(res.stdout, '', `${args.join(' ')} printed nothing on stdout`);
      assert.ok(res.stderr.includes(dir), `${args.join(' ')} names the data directory: ${res.stderr}`);
      assert.match(res.stderr, /DATABASE_URL/);
    }
    assert.equal((await createSession(server.url, key)).status, 201, 'the server still works');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    // The lock is gone with the server, and the data is intact.
    const listed = await runCli(['projects', 'list', '--json'], cliEnv(dir));
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(
      JSON.parse(listed.stdout).length,
      1,
      'only the default project; the refused create wrote nothing',
    );
  });
});
