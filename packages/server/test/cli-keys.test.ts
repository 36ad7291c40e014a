import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(serverDir, '../..');
const bin = path.join(serverDir, 'bin/plugboard.js');
const children: ChildProcess[] = [];
const dirs: string[] = [];

const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cli-keys-'));
  dirs.push(dir);
  return dir;
};

/** A minimal environment: PGlite in dataDir even when the test run has DATABASE_URL set. */
const envFor = (dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  PLUGBOARD_DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  ...extra,
});

function run(args: string[], env: NodeJS.ProcessEnv, command = process.execPath, cwd = serverDir) {
  const argv = command === process.execPath ? [bin, ...args] : args;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, argv, { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/** Starts `plugboard serve` and waits until /health/live answers (or the process dies). */
async function serve(dataDir: string) {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: envFor(dataDir, { HOST: '127.0.0.1', PORT: String(port) }),
    cwd: serverDir,
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`serve exited early:\n${output}`);
    if (attempt === 600) throw new Error(`serve did not answer /health/live within a minute:\n${output}`);
    const up = await fetch(`${url}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, exited, output: () => output };
}

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
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('plugboard CLI: keys, npx and the data directory lock', () => {
  test('npx plugboard projects create --json prints exactly the documented object, and the key works', async () => {
    const dir = tempDir();
    const res = await run(
      ['plugboard', 'projects', 'create', '--name', 'Npx', '--json'],
      envFor(dir),
      'npx',
      repoRoot,
    );
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'one line of JSON, nothing else on stdout');
    const project = JSON.parse(lines[0]!);
    assert.deepEqual(Object.keys(project), ['organization_id', 'project_id', 'api_key']);
    assert.ok(Number.isSafeInteger(project.organization_id));
    assert.equal(typeof project.project_id, 'string');
    assert.match(project.api_key, /^pbk_[A-Za-z0-9_-]{43}$/);

    const server = await serve(dir);
    assert.equal((await createSession(server.url, project.api_key)).status, 201);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });

  test('keys list reflects a revocation; revoking an unknown key fails cleanly', async () => {
    const dir = tempDir();
    const project = JSON.parse(
      (await run(['projects', 'create', '--name', 'K', '--json'], envFor(dir))).stdout,
    );
    const extra = JSON.parse(
      (await run(['keys', 'create', '--project', project.project_id, '--json'], envFor(dir))).stdout,
    );
    const revoke = await run(['keys', 'revoke', extra.id, '--json'], envFor(dir));
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.ok(!Number.isNaN(Date.parse(JSON.parse(revoke.stdout).revoked_at)));
    const listed: Array<{ id: string; revoked_at: string | null; hint: string }> = JSON.parse(
      (await run(['keys', 'list', '--project', project.project_id, '--json'], envFor(dir))).stdout,
    );
    assert.equal(listed.length, 2);
    assert.ok(listed.find((k) => k.id === extra.id)?.revoked_at, 'the revoked key is marked');
    assert.equal(listed.find((k) => k.id !== extra.id)?.revoked_at, null, 'the first key is active');
    assert.ok(!JSON.stringify(listed).includes(project.api_key.slice(12)), 'no key in the listing');

    const unknown = await run(['keys', 'revoke', 'key_doesnotexist'], envFor(dir));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /key_doesnotexist/);
    assert.doesNotMatch(unknown.stderr, /\.ts:\d+/, 'a message, not a stack trace');
    const noName = await run(['projects', 'create'], envFor(dir));
    assert.notEqual(noName.code, 0);
    assert.match(noName.stderr, /--name/);
  });

  test('serve on a port that is taken stops with a one-line message, not a stack trace', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const res = await run(['serve'], envFor(tempDir(), { HOST: '127.0.0.1', PORT: String(port) }));
      assert.equal(res.code, 1);
      assert.match(res.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*already in use.*PORT`));
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  test('while serve holds the data directory, every database command stops with a clear message', async () => {
    const dir = tempDir();
    const server = await serve(dir);
    const key = server.output().match(/pbk_[A-Za-z0-9_-]{43}/)?.[0];
    assert.ok(key, server.output());
    for (const args of [
      ['projects', 'create', '--name', 'X', '--json'],
      ['projects', 'list'],
      ['keys', 'list', '--project', 'proj_x'],
      ['migrate'],
    ]) {
      const res = await run(args, envFor(dir));
      assert.notEqual(res.code, 0, args.join(' '));
      assert.equal(res.stdout, '', `${args.join(' ')} printed nothing on stdout`);
      assert.ok(res.stderr.includes(dir), `${args.join(' ')} names the data directory: ${res.stderr}`);
      assert.match(res.stderr, /DATABASE_URL/);
    }
    assert.equal((await createSession(server.url, key)).status, 201, 'the server still works');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    // The lock is gone with the server, and the data is intact.
    const listed = await run(['projects', 'list', '--json'], envFor(dir));
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(
      JSON.parse(listed.stdout).length,
      1,
      'only the default project; the refused create wrote nothing',
    );
  });
});
