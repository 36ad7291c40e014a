import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importAccountLines } from '../src/cli/account-import.ts';
import { createAppContext } from '../src/context.ts';
import { projectContext } from '../src/services/tenancy.ts';
import { backends } from './support/backends.ts';
import { bin, cliEnv, runCli, serverDir } from './support/cli.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';
import { startTokenServer, type TokenServer } from './support/token-server.ts';

/** A JSON-lines file of `good` accounts (half OAuth, half API key) with a bad line every `badEvery`. */
function importLines(
  oauthConfig: string,
  apiKeyConfig: string,
  good: number,
  badEvery: number,
  prefix: string,
) {
  const lines: string[] = [];
  const bad = [
    '{"integration_id": ',
    JSON.stringify({ integration_id: oauthConfig, origin_owner_name: 'No owner id' }),
    JSON.stringify({
      integration_id: apiKeyConfig,
      origin_owner_id: 'o',
      origin_owner_name: 'Missing key',
      credentials: {},
    }),
    JSON.stringify({
      integration_id: oauthConfig,
      origin_owner_id: 'o',
      origin_owner_name: 'No tokens',
      external_id: `${prefix}-no-tokens`,
    }),
  ];
  let badLines = 0;
  for (let i = 0; i < good; i++) {
    if (i % badEvery === 0) {
      lines.push(bad[badLines % bad.length]!);
      badLines++;
    }
    lines.push(
      JSON.stringify(
        i % 2 === 0
          ? {
              integration_id: oauthConfig,
              origin_owner_id: `owner-${i}`,
              origin_owner_name: `Owner ${i}`,
              external_id: `${prefix}-${i}`,
              oauth: {
                access_token: `at-${i}`,
                refresh_token: `rt-${prefix}-${i}`,
                expires_at: new Date(Date.now() + 3600_000).toISOString(),
                scopes: ['crm.objects.contacts.read'],
              },
            }
          : {
              integration_id: apiKeyConfig,
              origin_owner_id: `owner-${i}`,
              origin_owner_name: `Owner ${i}`,
              external_id: `${prefix}-${i}`,
              credentials: { api_key: `key-${i}` },
            },
      ),
    );
  }
  return { text: `${lines.join('\n')}\n`, badLines };
}

/** `plugboard accounts import` with a bound that fits a loaded machine (runCli stops at a minute). */
function runImport(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env, cwd: serverDir, timeout: 300_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

for (const backend of backends()) {
  describe(`account import (${backend})`, () => {
    let server: TestServer;
    let tokens: TokenServer;
    let api: FakeProvider;
    let key: string;
    let projectId: string;
    let oauthConfig: string;
    let apiKeyConfig: string;

    before(async () => {
      tokens = await startTokenServer();
      api = await startFakeProvider((req) =>
        req.headers.authorization === 'Bearer good-key'
          ? { status: 200, body: {} }
          : { status: 401, body: {} },
      );
      server = await startTestServer(backend, { ...LOOPBACK_PROVIDERS });
      const project = await server.newProject();
      key = project.api_key;
      projectId = project.project_id;
      const hubspot = await call(server, 'POST', '/auth_configs', {
        key,
        body: {
          connector_key: 'hubspot',
          oauth: { client_id: 'client', client_secret: 'secret' },
          urls: {
            authorization_url: `${tokens.url}/authorize`,
            token_url: `${tokens.url}/token`,
            api_base_url: api.url,
          },
        },
      });
      assert.equal(hubspot.status, 201, JSON.stringify(hubspot.body));
      oauthConfig = hubspot.body.id;
      const affinity = await call(server, 'POST', '/auth_configs', {
        key,
        body: { connector_key: 'affinity', urls: { api_base_url: api.url } },
      });
      assert.equal(affinity.status, 201, JSON.stringify(affinity.body));
      apiKeyConfig = affinity.body.id;
      const hook = await call(server, 'POST', '/webhook_endpoints', {
        key,
        body: { url: 'https://example.com/hooks', events: ['account.created'] },
      });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
    });
    after(async () => {
      await server.close();
      await tokens.close();
      await api.close();
    });

    const events = (accountId: string) =>
      server.database.db
        .selectFrom('webhook_events')
        .select(['type', 'payload'])
        .where('type', '=', 'account.created')
        .execute()
        .then((rows) => rows.filter((r) => JSON.stringify(r.payload).includes(accountId)));

    test('OAuth tokens become an active account whose credentials are the imported tokens, with account.created', async () => {
      const expiresAt = new Date(Date.now() + 3600_000).toISOString();
      const res = await call(server, 'POST', '/accounts', {
        key,
        body: {
          integration_id: oauthConfig,
          origin_owner_id: 'cust-1',
          origin_owner_name: 'Customer One',
          external_id: 'nango-conn-1',
          oauth: {
            access_token: 'imported-access',
            refresh_token: 'imported-refresh',
            expires_at: expiresAt,
            scopes: ['a', 'b'],
          },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.provider, 'hubspot');
      assert.equal(res.body.origin_owner_id, 'cust-1');
      assert.equal(res.body.status, 'active');
      const creds = await call(server, 'GET', `/accounts/${res.body.id}/credentials`, { key });
      assert.equal(creds.status, 200, JSON.stringify(creds.body));
      assert.equal(creds.body.credentials.access_token, 'imported-access');
      assert.equal(creds.body.credentials.refresh_token, 'imported-refresh');
      assert.equal(creds.body.credentials.scope, 'a b');
      assert.equal(tokens.requests.length, 0, 'a fresh imported token is not refreshed on read');
      assert.equal((await events(res.body.id)).length, 1);

      const again = await call(server, 'POST', '/accounts', {
        key,
        body: {
          integration_id: oauthConfig,
          origin_owner_id: 'cust-1',
          origin_owner_name: 'Customer One',
          external_id: 'nango-conn-1',
          oauth: { access_token: 'other', refresh_token: 'other' },
        },
      });
      assert.equal(again.status, 200, 'the same external id answers the existing account');
      assert.equal(again.body.id, res.body.id);
      assert.equal((await events(res.body.id)).length, 1, 'no second account.created');

      // External ids are the end customer's: another owner with the same id is another account.
      const otherOwner = await call(server, 'POST', '/accounts', {
        key,
        body: {
          integration_id: oauthConfig,
          origin_owner_id: 'cust-2',
          origin_owner_name: 'Customer Two',
          external_id: 'nango-conn-1',
          oauth: { access_token: 'second-access', refresh_token: 'second-refresh' },
        },
      });
      assert.equal(otherOwner.status, 201, JSON.stringify(otherOwner.body));
      assert.notEqual(otherOwner.body.id, res.body.id);
      assert.equal(otherOwner.body.origin_owner_id, 'cust-2');
    });

    test('the same external id imported concurrently makes one account', async () => {
      const body = {
        integration_id: apiKeyConfig,
        origin_owner_id: 'cust-race',
        origin_owner_name: 'Race',
        external_id: 'race-1',
        credentials: { api_key: 'k' },
      };
      const results = await Promise.all(
        Array.from({ length: 6 }, () => call(server, 'POST', '/accounts', { key, body })),
      );
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201]);
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    });

    test('fields are validated like the hub form; the provider is asked only with check: true', async () => {
      const base = { integration_id: apiKeyConfig, origin_owner_id: 'cust-2', origin_owner_name: 'Two' };
      const missing = await call(server, 'POST', '/accounts', { key, body: { ...base, credentials: {} } });
      assert.equal(missing.status, 400, JSON.stringify(missing.body));
      assert.match(JSON.stringify(missing.body), /api_key/);
      const unknown = await call(server, 'POST', '/accounts', {
        key,
        body: { ...base, credentials: { api_key: 'x', colour: 'red' } },
      });
      assert.equal(unknown.status, 400);
      assert.match(JSON.stringify(unknown.body), /colour: unknown field/);
      const tokensForApiKey = await call(server, 'POST', '/accounts', {
        key,
        body: { ...base, credentials: { api_key: 'x' }, oauth: { access_token: 'y' } },
      });
      assert.equal(tokensForApiKey.status, 400);
      const noTokens = await call(server, 'POST', '/accounts', {
        key,
        body: { integration_id: oauthConfig, origin_owner_id: 'c', origin_owner_name: 'C' },
      });
      assert.equal(noTokens.status, 400);
      assert.match(noTokens.body.message, /oauth\.access_token/);
      const unknownConfig = await call(server, 'POST', '/accounts', {
        key,
        body: {
          ...base,
          integration_id: '00000000-0000-4000-8000-000000000000',
          credentials: { api_key: 'x' },
        },
      });
      assert.equal(unknownConfig.status, 404);

      const requestsBefore = api.requests.length;
      const unchecked = await call(server, 'POST', '/accounts', {
        key,
        body: { ...base, credentials: { api_key: 'bad-key' } },
      });
      assert.equal(unchecked.status, 201, 'no credential check unless asked');
      assert.equal(api.requests.length, requestsBefore);
      const refused = await call(server, 'POST', '/accounts', {
        key,
        body: { ...base, credentials: { api_key: 'bad-key' }, check: true },
      });
      assert.ok(
        refused.status >= 400 && refused.status < 500,
        `${refused.status} ${JSON.stringify(refused.body)}`,
      );
      assert.equal(api.requests.length, requestsBefore + 1);
      const checked = await call(server, 'POST', '/accounts', {
        key,
        body: { ...base, credentials: { api_key: 'good-key' }, check: true },
      });
      assert.equal(checked.status, 201, JSON.stringify(checked.body));
    });

    test('3,000 lines with bad ones: each bad line reported with its reason, a re-run creates nothing', async () => {
      const { text, badLines } = importLines(oauthConfig, apiKeyConfig, 3000, 100, 'bulk');
      const project = await projectContext(server.database.db, projectId);
      const parts = { config: server.config, db: server.database.db, vault: server.vault };
      const deps = createAppContext({ ...parts, catalogue: server.catalogue });
      after(() => deps.outbound.close());
      const reports: string[] = [];
      async function* lines() {
        yield* text.split('\n');
      }
      const first = await importAccountLines(deps, project, lines(), { report: (l) => reports.push(l) });
      assert.deepEqual(first, { created: 3000, existing: 0, failed: badLines });
      const failures = reports.filter((l) => /^line \d+: /.test(l));
      assert.equal(failures.length, badLines);
      assert.match(failures[0]!, /^line 1: not JSON/);
      assert.ok(failures.some((l) => /origin_owner_id/.test(l)));
      assert.ok(failures.some((l) => /API key is required/.test(l)));
      assert.ok(failures.some((l) => /oauth\.access_token/.test(l)));
      assert.ok(
        reports.some((l) => /^1000 lines read: /.test(l)),
        'progress is reported',
      );

      const second = await importAccountLines(deps, project, lines(), { report: () => {} });
      assert.deepEqual(second, { created: 0, existing: 3000, failed: badLines });
      const count = await server.database.db
        .selectFrom('linked_accounts')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('external_id', 'like', 'bulk-%')
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 3000);
    });

    test('plugboard accounts import FILE: progress and failed lines on stderr, summary on stdout, idempotent', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'plugboard-import-'));
      const file = path.join(dir, 'accounts.jsonl');
      const { text, badLines } = importLines(oauthConfig, apiKeyConfig, 1200, 200, 'cli');
      writeFileSync(file, text);
      // PGlite here is in memory, in this process: the CLI gets its own data directory and project then.
      let env: NodeJS.ProcessEnv;
      let cliProject = projectId;
      let configs = { oauth: oauthConfig, apiKey: apiKeyConfig };
      if (server.database.url) {
        env = cliEnv(dir, {
          DATABASE_URL: server.database.url,
          PLUGBOARD_MASTER_KEY: server.masterKey.toString('hex'),
        });
      } else {
        env = cliEnv(path.join(dir, 'data'));
        const created = JSON.parse(
          (await runCli(['projects', 'create', '--name', 'CLI', '--json'], env)).stdout,
        );
        cliProject = created.project_id;
        const made = async (args: string[]) => JSON.parse((await runCli(args, env)).stdout).id as string;
        configs = {
          oauth: await made([
            'integrations',
            'create',
            '--project',
            cliProject,
            '--connector',
            'hubspot',
            '--client-id',
            'c',
            '--client-secret',
            's',
            '--json',
          ]),
          apiKey: await made([
            'integrations',
            'create',
            '--project',
            cliProject,
            '--connector',
            'affinity',
            '--json',
          ]),
        };
        writeFileSync(file, importLines(configs.oauth, configs.apiKey, 1200, 200, 'cli').text);
      }
      const first = await runImport(['accounts', 'import', file, '--project', cliProject, '--json'], env);
      assert.equal(first.code, 1, `some lines failed, so the exit code says so:\n${first.stderr}`);
      assert.deepEqual(JSON.parse(first.stdout), { created: 1200, existing: 0, failed: badLines });
      assert.equal(first.stderr.match(/^line \d+: /gm)?.length, badLines, first.stderr);
      assert.match(first.stderr, /^1000 lines read: /m);
      const second = await runImport(['accounts', 'import', file, '--project', cliProject, '--json'], env);
      assert.deepEqual(JSON.parse(second.stdout), { created: 0, existing: 1200, failed: badLines });
    });
  });
}
