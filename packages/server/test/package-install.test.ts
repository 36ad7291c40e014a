import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot, serverDir } from './support/cli.ts';
import { freePort } from './support/server.ts';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/**
 * The environment of a stranger's shell: no npm_* variables from the `npm test` running this file
 * (they would point npm at this workspace) and nothing of the test run's configuration.
 */
const strangerEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...(process.env.npm_config_cache ? { npm_config_cache: process.env.npm_config_cache } : {}),
  ...extra,
});

function exec(command: string, args: string[], cwd: string, env = strangerEnv()) {
  return new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(command, args, { cwd, env, timeout: 10 * 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`))
        : resolve({ stdout, stderr }),
    );
  });
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-package-'));
let server: ChildProcess | undefined;
// npx runs the server as its own child and does not pass signals on: signal the whole process group.
const signal = (child: ChildProcess, name: NodeJS.Signals) => {
  try {
    process.kill(-(child.pid as number), name);
  } catch {
    // Already gone.
  }
};
after(() => {
  if (server) signal(server, 'SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  test('npm pack, npm install into an empty directory, npx plugboard serve: API, hub bundle and connectors', async () => {
    // Pack exactly as a publish would: prepack builds the hub and the compiled JavaScript.
    const packed = await exec(npm, ['pack', '--json', '--pack-destination', work], serverDir);
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(info, packed.stdout);
    const files = info.files.map((f) => f.path);
    assert.ok(files.includes('dist/main.js') && files.includes('bin/plugboard.js'), files.join('\n'));
    assert.ok(files.includes('dist/assets/hub/plugboard-hub.js'), 'the hub bundle ships inside');
    assert.ok(files.includes('dist/assets/console/index.html'), 'the console ships inside');
    assert.ok(files.includes('dist/assets/connectors/bamboohr.json'), 'the connectors ship inside');
    assert.ok(files.includes('LICENSE'));
    assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'no sources or tests');

    const pkg = JSON.parse(fs.readFileSync(path.join(serverDir, 'package.json'), 'utf8'));
    assert.equal(pkg.private, undefined, 'publishable');
    assert.equal(pkg.license, 'Apache-2.0');
    for (const deps of [pkg.dependencies, pkg.peerDependencies ?? {}]) {
      assert.ok(
        !Object.keys(deps).some((d) => d.startsWith('@plugboard/')),
        'no workspace package at run time',
      );
      assert.ok(!('tsx' in deps), 'tsx is for development only');
    }

    // A stranger's empty project installs the tarball; its dependencies come from the registry.
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(
      path.join(app, 'package.json'),
      '{ "name": "plugboard-install-check", "private": true }\n',
    );
    await exec(
      npm,
      ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, info.filename)],
      app,
    );
    const installed = path.join(app, 'node_modules/@plugboard/server');
    assert.ok(fs.existsSync(path.join(installed, 'dist/main.js')));
    assert.ok(!fs.existsSync(path.join(app, 'node_modules/@plugboard/hub')), 'the hub package is not needed');

    const version = await exec(npx, ['plugboard', '--version'], app);
    assert.equal(version.stdout.trim(), pkg.version);

    const port = await freePort();
    const dataDir = path.join(work, 'data');
    server = spawn(npx, ['plugboard', 'serve'], {
      cwd: app,
      detached: true,
      env: strangerEnv({
        HOST: '127.0.0.1',
        PORT: String(port),
        PLUGBOARD_DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
      }),
    });
    let output = '';
    server.stdout?.on('data', (d) => {
      output += d;
    });
    server.stderr?.on('data', (d) => {
      output += d;
    });
    // 'close' comes once every process holding the output pipes, the server included, has ended.
    const closed = new Promise<void>((resolve) => server?.once('close', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt++) {
      assert.equal(server.exitCode, null, `serve exited early:\n${output}`);
      assert.ok(attempt < 1200, `serve was not ready within two minutes:\n${output}`);
      const ready = await fetch(`${url}/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(fs.existsSync(path.join(dataDir, 'pgdata')), 'the data directory is the one configured');
    assert.doesNotMatch(output, /hub bundle missing/);

    const hub = await fetch(`${url}/embedded/assets/plugboard-hub.js`);
    assert.equal(hub.status, 200);
    assert.match(hub.headers.get('content-type') ?? '', /javascript/);
    assert.deepEqual(
      Buffer.from(await hub.arrayBuffer()),
      fs.readFileSync(path.join(repoRoot, 'packages/hub/dist/plugboard-hub.js')),
      'the bundle built from packages/hub',
    );

    // The console ships inside too: its page and the script the page names.
    assert.doesNotMatch(output, /console build missing/);
    const consolePage = await fetch(`${url}/console/projects`);
    assert.equal(consolePage.status, 200);
    const script = (await consolePage.text()).match(/src="\.\/(assets\/[^"]+\.js)"/)?.[1];
    assert.ok(script, 'the console page names its script');
    const consoleScript = await fetch(`${url}/console/${script}`);
    assert.equal(consoleScript.status, 200);
    assert.match(consoleScript.headers.get('content-type') ?? '', /javascript/);

    const key = output.match(/pbk_[A-Za-z0-9_-]{43}/)?.[0];
    assert.ok(key, `the first start printed a key:\n${output}`);
    const meta = await fetch(`${url}/connectors/meta`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(meta.status, 200);
    const connectors = (await meta.json()) as Array<{ provider: string }>;
    const shipped = fs.readdirSync(path.join(repoRoot, 'connectors')).filter((f) => f.endsWith('.json'));
    assert.equal(connectors.length, shipped.length, 'every connector of the repository');
    const logo = await fetch(`${url}/connectors/logos/bamboohr.svg`);
    assert.equal(logo.status, 200);

    signal(server, 'SIGTERM');
    await closed;
    assert.match(output, /draining: readiness is 503/, 'the server itself received SIGTERM');
    const stillUp = await fetch(`${url}/health/live`).then(
      () => true,
      () => false,
    );
    assert.equal(stillUp, false, 'nothing listens any more');
  });
});
