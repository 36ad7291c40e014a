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

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cli-'));
  dirs.push(dir);
  return dir;
}

/** Only what the CLI needs: no DATABASE_URL from the CI environment, so it uses PGlite in dataDir. */
function cliEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PLUGBOARD_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

function run(args: string[], env: NodeJS.ProcessEnv, command = process.execPath, cwd = serverDir) {
  const argv = command === process.execPath ? [bin, ...args] : args;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, argv, { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function serve(dataDir: string, extra: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: cliEnv(dataDir, { HOST: '127.0.0.1', PORT: String(port), ...extra }),
    cwd: serverDir,
  });
  children.push(child);
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stdout += d;
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`serve exited early: ${stdout}`);
    const ok = await fetch(`${url}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { url, child, exited, output: () => stdout };
}

const createSession = (url: string, key: string) =>
  fetch(`${url}/connect_sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ origin_owner_id: 'o', origin_owner_name: 'O' }),
  });

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('plugboard CLI', () => {
  test('projects create --json, keys create/list/revoke, and the keys work against serve', async () => {
    const dir = tempDir();
    const created = await run(['projects', 'create', '--name', 'Acme', '--json'], cliEnv(dir));
    assert.equal(created.code, 0, created.stderr);
    const project = JSON.parse(created.stdout);
    assert.deepEqual(Object.keys(project).sort(), ['api_key', 'organization_id', 'project_id']);
    assert.equal(typeof project.organization_id, 'number');
    assert.match(project.project_id, /^proj_/);
    assert.match(project.api_key, /^pbk_/);

    const second = JSON.parse(
      (await run(['keys', 'create', '--project', project.project_id, '--name', 'ci', '--json'], cliEnv(dir)))
        .stdout,
    );
    assert.match(second.api_key, /^pbk_/);
    const listed = JSON.parse(
      (await run(['keys', 'list', '--project', project.project_id, '--json'], cliEnv(dir))).stdout,
    );
    assert.equal(listed.length, 2);
    assert.ok(!JSON.stringify(listed).includes(second.api_key), 'list shows hints, not keys');
    const revoked = await run(['keys', 'revoke', second.id], cliEnv(dir));
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await run(['keys', 'create', '--project', 'proj_missing'], cliEnv(dir))).code, 1);

    const server = await serve(dir);
    assert.equal((await createSession(server.url, project.api_key)).status, 201);
    assert.equal((await createSession(server.url, second.api_key)).status, 401, 'revoked key');

    // While serve holds the PGlite directory, another CLI process stops with a clear message.
    const blocked = await run(['projects', 'create', '--name', 'Other'], cliEnv(dir));
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /data directory .* in use/);
    assert.match(blocked.stderr, /DATABASE_URL/);
    assert.equal((await createSession(server.url, project.api_key)).status, 201, 'the server is unharmed');

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, 'SIGTERM shuts down cleanly');
    assert.equal(
      (await run(['projects', 'list', '--json'], cliEnv(dir))).code,
      0,
      'the lock is released on exit',
    );
  });

  test('first serve prints one API key once; the next start does not', async () => {
    const dir = tempDir();
    const first = await serve(dir);
    const keys = first.output().match(/pbk_[A-Za-z0-9_-]+/g) ?? [];
    assert.equal(keys.length, 1, first.output());
    assert.equal((await createSession(first.url, keys[0]!)).status, 201);
    first.child.kill('SIGTERM');
    await first.exited;
    const again = await serve(dir);
    assert.doesNotMatch(again.output(), /pbk_/);
    assert.equal((await createSession(again.url, keys[0]!)).status, 201);
    again.child.kill('SIGTERM');
    await again.exited;
  });

  test('PLUGBOARD_BOOTSTRAP_API_KEY becomes the default key and is not printed', async () => {
    const dir = tempDir();
    const chosen = 'my-container-key-0123456789abcdef';
    const server = await serve(dir, { PLUGBOARD_BOOTSTRAP_API_KEY: chosen });
    assert.doesNotMatch(server.output(), new RegExp(chosen));
    assert.match(server.output(), /PLUGBOARD_BOOTSTRAP_API_KEY/);
    assert.equal((await createSession(server.url, chosen)).status, 201);
    server.child.kill('SIGTERM');
    await server.exited;
  });

  test('npx plugboard works from the repository root', async () => {
    const dir = tempDir();
    const res = await run(
      ['plugboard', 'projects', 'create', '--name', 'Via npx', '--json'],
      cliEnv(dir),
      'npx',
      repoRoot,
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(JSON.parse(res.stdout).api_key, /^pbk_/);
  });

  test('invalid configuration stops with a readable message', async () => {
    const res = await run(['migrate'], cliEnv(tempDir(), { PORT: 'eighty' }));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /PORT/);
    assert.doesNotMatch(res.stderr, /at .*\.ts:\d+/);
  });
});
