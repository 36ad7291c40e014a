import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cliEnv, killCliServers, runCli, serveCli, serverDir } from './support/cli.ts';
import { startAcceptingProvider } from './support/connect.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cli-commands-'));
  dirs.push(dir);
  return dir;
};

after(() => {
  killCliServers();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function json(args: string[], env: NodeJS.ProcessEnv) {
  const run = await runCli([...args, '--json'], env);
  assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** Exit code 1 and exactly one line on stderr that matches, nothing on stdout. */
async function fails(args: string[], env: NodeJS.ProcessEnv, message: RegExp) {
  const run = await runCli(args, env);
  assert.equal(run.code, 1, `${args.join(' ')} exits 1: ${run.stdout}${run.stderr}`);
  assert.equal(run.stdout, '', `${args.join(' ')} prints nothing on stdout`);
  assert.match(run.stderr, message, args.join(' '));
  assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
}

describe('plugboard CLI: version, connectors, sessions, accounts and project resolution', () => {
  test('--version prints the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(serverDir, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const run = await runCli([flag], cliEnv(tempDir()));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${version}\n`);
    }
  });

  test('connectors list: every connector file, --category filters, --json has key, name, categories', async () => {
    const env = cliEnv(tempDir());
    const files = fs
      .readdirSync(path.join(serverDir, '../../connectors'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.basename(f, '.json'))
      .sort();
    const all: Array<{ key: string; name: string; categories: string[] }> = await json(
      ['connectors', 'list'],
      env,
    );
    assert.deepEqual(all.map((c) => c.key).sort(), files);
    const bamboo = all.find((c) => c.key === 'bamboohr');
    assert.deepEqual(Object.keys(bamboo ?? {}), ['key', 'name', 'categories']);
    assert.equal(bamboo?.name, 'BambooHR');
    assert.ok(bamboo?.categories.includes('hris'));

    const crm: typeof all = await json(['connectors', 'list', '--category', 'crm'], env);
    assert.ok(crm.length > 0 && crm.length < all.length);
    assert.ok(crm.every((c) => c.categories.includes('crm')));
    assert.deepEqual(
      crm.map((c) => c.key),
      all.filter((c) => c.categories.includes('crm')).map((c) => c.key),
    );

    const text = await runCli(['connectors', 'list', '--category', 'crm'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.trim().split('\n').length, crm.length);
    assert.match(text.stdout, /^hubspot\tHubSpot\t.*crm/m);

    const bad = await runCli(['connectors', 'list', '--category', 'nope'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /nope.*must be one of: .*hris/s);
  });

  test('unknown project: every command that takes --project fails with one clear line', async () => {
    const env = cliEnv(tempDir());
    await json(['projects', 'create', '--name', 'Only'], env);
    for (const args of [
      ['keys', 'list', '--project', 'proj_nope'],
      ['keys', 'create', '--project', 'proj_nope'],
      ['integrations', 'list', '--project', 'proj_nope'],
      ['integrations', 'create', '--project', 'proj_nope', '--connector', 'bamboohr'],
      ['sessions', 'create', '--project', 'proj_nope', '--owner-id', 'o', '--owner-name', 'O'],
      ['accounts', 'list', '--project', 'proj_nope'],
    ]) {
      await fails(args, env, /^plugboard: Project proj_nope does not exist/);
    }
  });

  test('without --project: the only project is used; none or several is a clear error', async () => {
    const env = cliEnv(tempDir());
    await fails(['keys', 'list'], env, /no project yet.*projects create/);
    const only = await json(['projects', 'create', '--name', 'Only'], env);
    const keys = await json(['keys', 'list'], env);
    assert.deepEqual(
      keys.map((k: { project_id: string }) => k.project_id),
      [only.project_id],
    );
    const second = await json(['projects', 'create', '--name', 'Second'], env);
    await fails(['accounts', 'list'], env, new RegExp(`2 projects.*--project.*${second.project_id}`));
    assert.deepEqual(await json(['accounts', 'list', '--project', second.project_id], env), []);
  });

  test('integrations update --disabled and delete work with the id alone, as the README shows', async () => {
    const env = cliEnv(tempDir());
    const first = await json(['projects', 'create', '--name', 'One'], env);
    await json(['projects', 'create', '--name', 'Two'], env);
    const created = await json(
      ['integrations', 'create', '--project', first.project_id, '--connector', 'bamboohr'],
      env,
    );
    const updated = await json(['integrations', 'update', created.id, '--disabled'], env);
    assert.equal(updated.active, false);
    const listed = await json(['integrations', 'list', '--project', first.project_id], env);
    assert.equal(listed[0].active, false);
    // Given, --project must match the integration's project.
    await fails(['integrations', 'delete', created.id, '--project', 'proj_nope'], env, /proj_nope/);
    assert.equal((await json(['integrations', 'delete', created.id], env)).id, created.id);
    await fails(['integrations', 'delete', created.id], env, new RegExp(`${created.id}.*not found`));
    await fails(['integrations', 'update', 'not-an-id', '--enabled'], env, /not-an-id.*not found/);
  });

  test('sessions create prints a link that works; accounts list shows what was connected through it', async () => {
    const dir = tempDir();
    const provider = await startAcceptingProvider();
    // The fake provider listens on 127.0.0.1, which the outbound guard refuses unless allowed.
    const env = cliEnv(dir, { PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback' });
    try {
      const project = await json(['projects', 'create', '--name', 'Sessions'], env);
      const integration = await json(
        ['integrations', 'create', '--connector', 'attio', '--api-base-url', provider.url],
        env,
      );

      const text = await runCli(
        [
          'sessions',
          'create',
          '--owner-id',
          'customer-42',
          '--owner-name',
          'Acme Inc',
          '--provider',
          'attio',
        ],
        env,
      );
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /Acme Inc \(customer-42\).*30 minutes/);
      assert.match(text.stdout, /^http:\/\/localhost:4000\/embedded\/integrations\?token=pbcs_\S+$/m);

      await fails(
        ['sessions', 'create', '--owner-id', 'o', '--owner-name', 'O', '--provider', 'nope'],
        env,
        /Unknown provider "nope"/,
      );
      await fails(['sessions', 'create', '--owner-name', 'O'], env, /--owner-id/);

      const session = await json(
        [
          'sessions',
          'create',
          '--owner-id',
          'customer-42',
          '--owner-name',
          'Acme Inc',
          '--provider',
          'attio',
          '--expires-in',
          '600',
        ],
        env,
      );
      assert.equal(session.project_id, project.project_id);
      assert.equal(session.provider, 'attio');
      assert.match(session.token, /^pbcs_/);
      assert.equal(
        session.auth_link_url,
        `http://localhost:4000/embedded/integrations?token=${session.token}`,
      );

      const server = await serveCli(dir, { PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback' });
      let accountId: string;
      try {
        const hub = (method: string, route: string, body?: unknown) =>
          fetch(`${server.url}${route}`, {
            method,
            headers: {
              'x-hub-session-token': session.token,
              'x-hub-version': '1',
              'content-type': 'application/json',
            },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
        assert.equal((await hub('GET', '/hub/settings')).status, 200, 'the CLI-made token works');
        const connected = await hub('POST', '/hub/accounts', {
          integration_id: integration.id,
          credentials: { access_token: 'good-token-0123456789' },
        });
        assert.equal(connected.status, 201, await connected.clone().text());
        accountId = ((await connected.json()) as { id: string }).id;
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }

      const accounts = await json(['accounts', 'list'], env);
      assert.deepEqual(
        accounts.map((a: { id: string; provider: string; origin_owner_id: string }) => [
          a.id,
          a.provider,
          a.origin_owner_id,
        ]),
        [[accountId, 'attio', 'customer-42']],
      );
      assert.ok(!JSON.stringify(accounts).includes('good-token'), 'no secret in the listing');
      assert.equal((await json(['accounts', 'list', '--owner-id', 'customer-42'], env)).length, 1);
      assert.deepEqual(await json(['accounts', 'list', '--owner-id', 'someone-else'], env), []);
      assert.equal((await json(['accounts', 'list', '--provider', 'attio'], env)).length, 1);
      assert.deepEqual(await json(['accounts', 'list', '--provider', 'hubspot'], env), []);
      // --search and --type filter as GET /accounts does, and refuse what it refuses.
      assert.equal((await json(['accounts', 'list', '--search', 'ACME'], env)).length, 1);
      assert.equal((await json(['accounts', 'list', '--search', 'tomer-4'], env)).length, 1);
      assert.deepEqual(await json(['accounts', 'list', '--search', 'acme%'], env), []);
      assert.equal(
        (await json(['accounts', 'list', '--type', 'production', '--search', 'acme'], env)).length,
        1,
      );
      assert.deepEqual(await json(['accounts', 'list', '--type', 'test'], env), []);
      await fails(['accounts', 'list', '--search', 'x'.repeat(201)], env, /at most 200 characters/);
      await fails(['accounts', 'list', '--type', 'staging'], env, /production, test/);
      const listedText = await runCli(['accounts', 'list'], env);
      assert.match(
        listedText.stdout,
        new RegExp(`^${accountId}\tattio\tactive\tcustomer-42\tAcme Inc\t`, 'm'),
      );
    } finally {
      await provider.close();
    }
  });

  test('migrate says what it applied, then that the database is up to date', async () => {
    const env = cliEnv(tempDir());
    const first = await runCli(['migrate'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Applied \d+ migrations: 0001_[a-z_]+, 0002_/);
    const count = Number(first.stdout.match(/^Applied (\d+)/)?.[1]);
    assert.equal(first.stdout.split(':')[1]?.split(',').length, count);
    const again = await runCli(['migrate'], env);
    assert.equal(again.stdout, 'Database is up to date.\n');
  });
});
