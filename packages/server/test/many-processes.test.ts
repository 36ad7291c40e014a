import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase } from './support/backends.ts';
import { bin, cliEnv, serverDir } from './support/cli.ts';
import { freePort } from './support/server.ts';

/**
 * Several `plugboard serve` processes on one PostgreSQL (and Redis when REDIS_URL is set), as child
 * processes on 127.0.0.1, behind a tiny load balancer written here: it sends each request to a backend
 * whose /health/ready said yes, and tries another one when a connection is refused or reset, the way
 * a real balancer with health checks and connect retries does.
 */
const databaseUrl = process.env.DATABASE_URL;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Backend {
  url: string;
  port: number;
  child: ChildProcess;
  ready: boolean;
  output: string;
}

describe('many serve processes: crashes and rolling restarts', {
  skip: !databaseUrl && 'DATABASE_URL is not set',
}, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const apiKey = `pb_test_${randomBytes(16).toString('hex')}`;
  const masterKey = randomBytes(32).toString('hex');
  const backends: Backend[] = [];
  let polling = true;

  async function startServe(port?: number): Promise<Backend> {
    const p = port ?? (await freePort());
    const child = spawn(process.execPath, [bin, 'serve'], {
      cwd: serverDir,
      env: cliEnv(undefined, {
        HOST: '127.0.0.1',
        PORT: String(p),
        DATABASE_URL: database.url!,
        PLUGBOARD_MASTER_KEY: masterKey,
        PLUGBOARD_BOOTSTRAP_API_KEY: apiKey,
        PLUGBOARD_RATE_LIMIT_PER_MINUTE: '1000000',
        PLUGBOARD_SHUTDOWN_GRACE_MS: '1000',
        ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
      }),
    });
    const backend: Backend = { url: `http://127.0.0.1:${p}`, port: p, child, ready: false, output: '' };
    child.stdout!.on('data', (d) => {
      backend.output += d;
    });
    child.stderr!.on('data', (d) => {
      backend.output += d;
    });
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`serve exited early:\n${backend.output}`);
      if (i === 600) throw new Error(`serve not ready within a minute:\n${backend.output}`);
      if (
        await fetch(`${backend.url}/health/ready`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
    backend.ready = true;
    return backend;
  }

  /** The balancer's health checks: a backend gets traffic only while its readiness answers 200. */
  async function healthChecks() {
    while (polling) {
      await Promise.all(
        backends.map(async (b) => {
          b.ready = await fetch(`${b.url}/health/ready`, { signal: AbortSignal.timeout(1000) }).then(
            (r) => r.ok,
            () => false,
          );
        }),
      );
      await sleep(50);
    }
  }

  let next = 0;
  /** One request through the balancer: network errors (refused, reset) are retried on another backend. */
  async function send(
    path: string,
    body: unknown,
  ): Promise<{ status: number; body: unknown } | { error: string }> {
    let lastError = '';
    for (let attempt = 0; attempt < 50; attempt++) {
      const ready = backends.filter((b) => b.ready);
      if (ready.length === 0) {
        await sleep(20);
        continue;
      }
      const backend = ready[next++ % ready.length]!;
      try {
        const res = await fetch(`${backend.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: await res.json() };
      } catch (err) {
        lastError = String((err as Error & { cause?: Error }).cause?.message ?? err);
        backend.ready = false;
      }
    }
    return { error: lastError };
  }

  /** Steady create load from `workers` loops until stopped; what each request ended with. */
  function load(workers: number, tag: string) {
    let running = true;
    const created: string[] = [];
    const failed: string[] = [];
    let n = 0;
    const loops = Array.from({ length: workers }, async () => {
      while (running) {
        const owner = `${tag}-${n++}`;
        const res = await send('/connect_sessions', { origin_owner_id: owner, origin_owner_name: owner });
        if ('status' in res && res.status === 201) created.push(owner);
        else
          failed.push(
            `${owner}: ${'error' in res ? res.error : `${res.status} ${JSON.stringify(res.body)}`}`,
          );
      }
    });
    return {
      created,
      failed,
      stop: async () => {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  let checks: Promise<void>;
  before(async () => {
    database = await createTestDatabase('postgres');
    // The first process migrates and makes the project; the second starts against a ready database.
    backends.push(await startServe());
    backends.push(await startServe());
    checks = healthChecks();
  });
  after(async () => {
    polling = false;
    await checks;
    for (const b of backends) if (b.child.exitCode === null) b.child.kill('SIGKILL');
    await database.close();
  });

  const exists = async (owners: string[]) => {
    const found = new Set<string>();
    for (let i = 0; i < owners.length; i += 1000) {
      const rows = await database.db
        .selectFrom('connect_sessions')
        .select('origin_owner_id')
        .where('origin_owner_id', 'in', owners.slice(i, i + 1000))
        .execute();
      for (const r of rows) found.add(r.origin_owner_id);
    }
    return owners.filter((o) => !found.has(o));
  };

  test('one of two processes SIGKILLed under load: every session whose 201 reached the client exists', async () => {
    const traffic = load(8, 'kill');
    while (traffic.created.length < 200) await sleep(20);
    const victim = backends[0]!;
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    const atKill = traffic.created.length;
    while (traffic.created.length < atKill + 200) await sleep(20);
    await traffic.stop();
    assert.deepEqual(await exists(traffic.created), [], 'acknowledged sessions all committed');
    assert.deepEqual(traffic.failed, [], 'the balancer retried refused and reset connections elsewhere');
    // Bring the killed one back for the next test, on its port.
    backends[0] = await startServe(victim.port);
  });

  test('rolling SIGTERM restarts of both processes under load: zero failed requests', async () => {
    const traffic = load(8, 'roll');
    while (traffic.created.length < 100) await sleep(20);
    for (const index of [0, 1]) {
      const old = backends[index]!;
      old.child.kill('SIGTERM');
      // Draining: readiness says no while the process still answers what it has.
      const sawDraining = await (async () => {
        for (let i = 0; i < 50; i++) {
          const res = await fetch(`${old.url}/health/ready`).catch(() => undefined);
          if (res?.status === 503) return true;
          if (!res) return false;
          await sleep(20);
        }
        return false;
      })();
      assert.ok(sawDraining, 'readiness turned 503 while draining');
      const code = await new Promise((r) =>
        old.child.exitCode !== null ? r(old.child.exitCode) : old.child.once('exit', r),
      );
      assert.equal(code, 0, `a drained process exits cleanly:\n${old.output}`);
      const before = traffic.created.length;
      backends[index] = await startServe(old.port);
      while (traffic.created.length < before + 100) await sleep(20);
    }
    await traffic.stop();
    assert.deepEqual(traffic.failed, []);
    assert.ok(traffic.created.length >= 300);
    assert.deepEqual(await exists(traffic.created), []);
  });
});
