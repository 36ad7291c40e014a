import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { defaultDataDir, findRepositoryRoot } from '../src/install-paths.ts';
import { cliEnv, killCliServers, repoRoot, runCli, serveCli } from './support/cli.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-startup-'));
  dirs.push(dir);
  return dir;
};

after(() => {
  killCliServers();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A directory shaped like a Plugboard checkout (root workspace, packages/server), without the code. */
function fakeCheckout(): string {
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'packages/server/src'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'package.json'),
    JSON.stringify({ name: 'x', workspaces: ['packages/*'] }),
  );
  fs.writeFileSync(
    path.join(root, 'packages/server/package.json'),
    JSON.stringify({ name: '@plugboard/server' }),
  );
  return root;
}

/** The one line a failed start prints: exit 1, one line, the expected words, no stack trace. */
function assertOneLine(res: { code: number; stdout: string; stderr: string }, message: RegExp) {
  assert.equal(res.code, 1, res.stdout + res.stderr);
  assert.match(res.stderr, message);
  assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
  assert.doesNotMatch(res.stderr, /\n\s+at |\.ts:\d+/, 'no stack trace');
}

describe('start-up', () => {
  test('the default data directory is .plugboard at the checkout root, from any folder in it', () => {
    const root = fakeCheckout();
    for (const cwd of [root, path.join(root, 'packages/server'), path.join(root, 'packages/server/src')]) {
      assert.equal(findRepositoryRoot(cwd), root);
      assert.equal(defaultDataDir(cwd), path.join(root, '.plugboard'), cwd);
    }
    const elsewhere = tempDir();
    assert.equal(findRepositoryRoot(elsewhere), undefined);
    assert.equal(defaultDataDir(elsewhere), path.join(elsewhere, '.plugboard'), 'outside a checkout: ./');
    // A workspace that is not Plugboard's is just a directory.
    const other = tempDir();
    fs.writeFileSync(path.join(other, 'package.json'), JSON.stringify({ workspaces: ['packages/*'] }));
    assert.equal(defaultDataDir(other), path.join(other, '.plugboard'));
    // This test runs inside the real checkout.
    assert.equal(findRepositoryRoot(process.cwd()), repoRoot);
  });

  test('the CLI started in packages/server and at the root share one database; PLUGBOARD_DATA_DIR wins', async () => {
    const root = fakeCheckout();
    const env = cliEnv(); // no PLUGBOARD_DATA_DIR
    const created = await runCli(['projects', 'create', '--name', 'From server dir', '--json'], env, {
      cwd: path.join(root, 'packages/server'),
    });
    assert.equal(created.code, 0, created.stderr);
    assert.ok(fs.existsSync(path.join(root, '.plugboard/pgdata')), 'the root data directory');
    assert.ok(!fs.existsSync(path.join(root, 'packages/server/.plugboard')), 'not the package folder');
    const listed = await runCli(['projects', 'list', '--json'], env, { cwd: root });
    assert.deepEqual(
      JSON.parse(listed.stdout).map((p: { project_id: string }) => p.project_id),
      [JSON.parse(created.stdout).project_id],
    );

    const explicit = path.join(tempDir(), 'data');
    const elsewhere = await runCli(['projects', 'list', '--json'], cliEnv(explicit), { cwd: root });
    assert.deepEqual(JSON.parse(elsewhere.stdout), [], 'PLUGBOARD_DATA_DIR is another database');
    assert.ok(fs.existsSync(path.join(explicit, 'pgdata')));
  });

  test('PLUGBOARD_PUBLIC_URL defaults to http://localhost:$PORT', () => {
    assert.equal(loadConfig({}).publicUrl, 'http://localhost:4000');
    assert.equal(loadConfig({ PORT: '4100' }).publicUrl, 'http://localhost:4100');
    assert.equal(
      loadConfig({ PORT: '4100', PLUGBOARD_PUBLIC_URL: 'https://pb.example.com/' }).publicUrl,
      'https://pb.example.com',
    );
  });

  test('a start that cannot listen creates no project; the next start shows the key, and links use its port', async () => {
    const dir = tempDir();
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const failed = await runCli(['serve'], cliEnv(dir, { HOST: '127.0.0.1', PORT: String(port) }));
      assert.equal(failed.code, 1);
      assert.doesNotMatch(failed.stdout + failed.stderr, /pbk_/, 'no key printed for a start that failed');
    } finally {
      await new Promise((r) => taken.close(r));
    }

    const server = await serveCli(dir);
    const key = server.output().match(/pbk_[A-Za-z0-9_-]{43}/)?.[0];
    assert.ok(key, `the first successful start shows the key:\n${server.output()}`);
    const port2 = new URL(server.url).port;
    const ready = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => /Plugboard listening on/.test(l.msg));
    assert.ok(ready, server.output());
    assert.equal(ready.docs, `http://localhost:${port2}/docs`, 'where the reference is');
    assert.match(ready.msg, /connect_sessions.*auth_link_url/, 'how to create a link');
    assert.match(ready.create_link, new RegExp(`^curl .*localhost:${port2}/connect_sessions$`));
    assert.match(
      server.output(),
      new RegExp(`curl -u "\\$KEY:"[^]*http://localhost:${port2}/connect_sessions`),
    );

    const res = await fetch(`${server.url}/connect_sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ origin_owner_id: 'o', origin_owner_name: 'O' }),
    });
    assert.equal(res.status, 201);
    const { auth_link_url } = (await res.json()) as { auth_link_url: string };
    assert.ok(auth_link_url.startsWith(`http://localhost:${port2}/`), auth_link_url);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });

  test('unreachable PostgreSQL: one line naming the server (not the password) and exit code 1', async () => {
    // A port nothing listens on: take one, then free it.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((r) => probe.close(r));
    const env = cliEnv(undefined, {
      DATABASE_URL: `postgres://pb:hunter2secret@127.0.0.1:${port}/plugboard`,
    });
    for (const args of [['serve'], ['migrate'], ['projects', 'list']]) {
      const res = await runCli(args, env);
      assertOneLine(
        res,
        new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/plugboard.*DATABASE_URL`),
      );
      assert.doesNotMatch(res.stderr, /hunter2secret/);
    }
  });

  test('unreachable Redis at start: one line and exit code 1, and no project is created', async () => {
    const dir = tempDir();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((r) => probe.close(r));
    const res = await runCli(
      ['serve'],
      cliEnv(dir, { HOST: '127.0.0.1', PORT: '0', REDIS_URL: `redis://:pw-secret@127.0.0.1:${port}` }),
    );
    assertOneLine(res, new RegExp(`cannot connect to Redis at 127\\.0\\.0\\.1:${port}.*REDIS_URL`));
    assert.doesNotMatch(res.stderr + res.stdout, /pw-secret|pbk_|ioredis/);
    const listed = await runCli(['projects', 'list', '--json'], cliEnv(dir));
    assert.deepEqual(JSON.parse(listed.stdout), []);
  });

  const redisUrl = process.env.REDIS_URL;
  test('a Redis outage at run time: JSON log lines with backoff, requests still served', {
    skip: !redisUrl && 'REDIS_URL is not set',
  }, async () => {
    // A TCP relay to the real Redis that the test can cut (then reconnecting is refused).
    const target = new URL(redisUrl ?? '');
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const relayUrl = `redis://127.0.0.1:${(relay.address() as net.AddressInfo).port}${target.pathname}`;
    try {
      const server = await serveCli(tempDir(), { REDIS_URL: relayUrl });
      const key = server.output().match(/pbk_[A-Za-z0-9_-]{43}/)?.[0];
      assert.ok(key, server.output());
      const relayClosed = new Promise((r) => relay.close(r));
      for (const s of sockets) s.destroy();
      await relayClosed;
      // Wait for two reconnection attempts to be logged (the relay refuses them).
      while ((server.output().match(/Redis unavailable/g) ?? []).length < 2) {
        assert.equal(server.child.exitCode, null, server.output());
        await new Promise((r) => setTimeout(r, 50));
      }
      const res = await fetch(`${server.url}/connect_sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ origin_owner_id: 'o', origin_owner_name: 'O' }),
      });
      assert.equal(res.status, 201, 'served without the shared limit while Redis is away');
      const after = server.output().slice(server.output().indexOf('Redis unavailable') - 200);
      const lines = after
        .slice(after.indexOf('\n') + 1)
        .trim()
        .split('\n');
      for (const line of lines) {
        const parsed = JSON.parse(line);
        assert.equal(typeof parsed.level, 'number', line);
      }
      assert.doesNotMatch(server.output(), /\[ioredis\]|Unhandled error event/);
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    } finally {
      if (relay.listening) await new Promise((r) => relay.close(r));
    }
  });
});
