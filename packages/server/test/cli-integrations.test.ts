import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cliEnv, killCliServers, runCli, serveCli } from './support/cli.ts';

describe('plugboard integrations (CLI)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugboard-cli-integrations-'));
  // The test's URL overrides point at 127.0.0.1, which the outbound guard refuses unless opened.
  const env = cliEnv(dataDir, { PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback' });
  after(() => {
    killCliServers();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const json = async (args: string[]) => {
    const run = await runCli([...args, '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout);
  };

  test('create, list, update and delete, validated like the API and visible through it', async () => {
    const project = await json(['projects', 'create', '--name', 'Integrations']);
    const at = ['--project', project.project_id];

    const bamboo = await json(['integrations', 'create', ...at, '--connector', 'bamboohr', '--name', 'HR']);
    assert.equal(bamboo.connector_key, 'bamboohr');
    assert.equal(bamboo.name, 'HR');
    assert.equal(bamboo.active, true);
    assert.equal(bamboo.authentication_config_key, 'api_key');

    // OAuth connectors need the project's own OAuth app, as through POST /auth_configs.
    const missing = await runCli(['integrations', 'create', ...at, '--connector', 'hubspot'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^plugboard: .*client_id/);
    assert.equal(missing.stderr.trim().split('\n').length, 1, 'one line, no stack');

    const secretFile = path.join(dataDir, 'client-secret');
    fs.writeFileSync(secretFile, 'hubspot-client-secret-123\n');
    const hubspotRun = await runCli(
      [
        'integrations',
        'create',
        ...at,
        '--connector',
        'hubspot',
        '--client-id',
        'client-123',
        '--client-secret-file',
        secretFile,
        '--scopes',
        'crm.objects.contacts.read, oauth',
        '--token-url',
        'http://127.0.0.1:9/token',
        '--default',
        '--json',
      ],
      env,
    );
    assert.equal(hubspotRun.code, 0, hubspotRun.stderr);
    assert.ok(!hubspotRun.stdout.includes('hubspot-client-secret-123'), 'the secret is never printed');
    const hubspot = JSON.parse(hubspotRun.stdout);
    assert.equal(hubspot.oauth_client_id, 'client-123');
    assert.deepEqual(hubspot.oauth_scopes, ['crm.objects.contacts.read', 'oauth']);
    assert.equal(hubspot.urls.token_url, 'http://127.0.0.1:9/token');
    assert.equal(hubspot.default, true);

    const disabled = await json([
      'integrations',
      'update',
      bamboo.id,
      ...at,
      '--disabled',
      '--environment',
      'test',
    ]);
    assert.equal(disabled.active, false);
    assert.equal(disabled.environment, 'test');
    assert.equal(disabled.name, 'HR', 'options not given are left as they are');

    const listed = await json(['integrations', 'list', ...at]);
    assert.deepEqual(
      listed.map((a: { id: string; active: boolean }) => [a.id, a.active]),
      [
        [bamboo.id, false],
        [hubspot.id, true],
      ],
    );

    // The API sees exactly what the CLI wrote.
    const server = await serveCli(dataDir);
    try {
      const res = await fetch(`${server.url}/auth_configs`, {
        headers: { authorization: `Bearer ${project.api_key}` },
      });
      const body = (await res.json()) as { data: Array<{ id: string; active: boolean }> };
      assert.deepEqual(
        body.data.map((a) => [a.id, a.active]),
        [
          [bamboo.id, false],
          [hubspot.id, true],
        ],
      );
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }

    const deleted = await json(['integrations', 'delete', bamboo.id, ...at]);
    assert.equal(deleted.id, bamboo.id);
    assert.deepEqual(
      (await json(['integrations', 'list', ...at])).map((a: { id: string }) => a.id),
      [hubspot.id],
    );
  });

  test('bad input stops with one clear line and exit code 1', async () => {
    const project = await json(['projects', 'create', '--name', 'Bad input']);
    for (const [args, message] of [
      [
        ['integrations', 'create', '--project', 'proj_missing', '--connector', 'bamboohr'],
        /Project proj_missing does not exist/,
      ],
      [
        ['integrations', 'create', '--project', project.project_id, '--connector', 'nope'],
        /Unknown connector "nope"/,
      ],
      [
        [
          'integrations',
          'create',
          '--project',
          project.project_id,
          '--connector',
          'bamboohr',
          '--api-base-url',
          'ftp://x',
        ],
        /Invalid options: urls\.api_base_url/,
      ],
      [
        ['integrations', 'delete', '00000000-0000-4000-8000-000000000000', '--project', project.project_id],
        /not found/,
      ],
    ] as const) {
      const run = await runCli([...args], env);
      assert.equal(run.code, 1, args.join(' '));
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    }
  });
});
