import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { resolveMasterKey } from '../crypto/master-key.ts';
import { openVault, VaultError } from '../crypto/vault.ts';
import { migrateToLatest } from '../db/database.ts';
import { PACKAGE_VERSION } from '../install-paths.ts';
import { type RotationResult, rotateKey } from '../services/key-rotation.ts';
import { createApiKey, createProject, listApiKeys, listProjects, revokeApiKey } from '../services/tenancy.ts';
import { accountCommands } from './accounts.ts';
import { connectorCommands } from './connectors.ts';
import { integrationCommands } from './integrations.ts';
import { operatorCommands } from './operators.ts';
import { runServe } from './serve.ts';
import { sessionCommands } from './sessions.ts';
import { PROJECT_OPTION, positiveInt, print, resolveProject, withDatabase } from './shared.ts';
import { runWorker } from './worker.ts';

export function buildCli(env: Record<string, string | undefined> = process.env): Command {
  const program = new Command('plugboard')
    .description('Plugboard: self-hostable connect sessions, wire-compatible with StackOne')
    .version(PACKAGE_VERSION, '-V, --version', 'print the version')
    .showHelpAfterError();
  const config = () => loadConfig(env);

  program
    .command('serve', { isDefault: true })
    .description('run the HTTP API (migrates the database and creates a default project on first start)')
    .action(async () => runServe(config()));

  program
    .command('worker')
    .description(
      'deliver webhooks and refresh OAuth tokens, no HTTP API (run several; set PLUGBOARD_WEBHOOK_WORKER=false and PLUGBOARD_REFRESH_WORKER=false on serve)',
    )
    .action(async () => runWorker(config()));

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const applied = await withDatabase(config(), 'plugboard migrate', (h) => migrateToLatest(h.db), {
        migrate: false,
      });
      process.stdout.write(
        applied.length
          ? `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.join(', ')}\n`
          : 'Database is up to date.\n',
      );
    });

  const projects = program.command('projects').description('manage projects');
  projects
    .command('create')
    .description('create a project (in a new organization unless --organization-id) and its first API key')
    .requiredOption('--name <name>', 'project name')
    .option('--organization-id <id>', 'add the project to this existing organization', positiveInt)
    .option('--json', 'print JSON')
    .action(async (opts: { name: string; organizationId?: number; json?: boolean }) => {
      const created = await withDatabase(config(), 'plugboard projects create', (h) =>
        createProject(h.db, { name: opts.name, organizationId: opts.organizationId }),
      );
      print(created, !!opts.json, () =>
        [
          `Project ${created.project_id} (organization ${created.organization_id}) created.`,
          `API key (shown once): ${created.api_key}`,
        ].join('\n'),
      );
    });
  projects
    .command('list')
    .description('list projects')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withDatabase(config(), 'plugboard projects list', (h) => listProjects(h.db));
      print(rows, !!opts.json, () =>
        rows.map((p) => `${p.project_id}\torg ${p.organization_id}\t${p.name}\t${p.created_at}`).join('\n'),
      );
    });

  const keys = program.command('keys').description('manage API keys');
  keys
    .command('create')
    .description('create an API key for a project (printed once)')
    .option(...PROJECT_OPTION)
    .option('--name <name>', 'a label to recognise the key by')
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; name?: string; json?: boolean }) => {
      const { key, info } = await withDatabase(config(), 'plugboard keys create', async (h) =>
        createApiKey(h.db, (await resolveProject(h.db, opts.project)).projectId, opts.name ?? null),
      );
      print(
        { ...info, api_key: key },
        !!opts.json,
        () => `Key ${info.id} created. API key (shown once): ${key}`,
      );
    });
  keys
    .command('list')
    .description("list a project's API keys (hints only; keys are never stored)")
    .option(...PROJECT_OPTION)
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; json?: boolean }) => {
      const rows = await withDatabase(config(), 'plugboard keys list', async (h) =>
        listApiKeys(h.db, (await resolveProject(h.db, opts.project)).projectId),
      );
      print(rows, !!opts.json, () =>
        rows
          .map(
            (k) =>
              `${k.id}\t${k.hint}\t${k.name ?? ''}\t${k.revoked_at ? `revoked ${k.revoked_at}` : 'active'}`,
          )
          .join('\n'),
      );
    });
  keys
    .command('revoke')
    .description('revoke an API key: requests using it fail from now on')
    .argument('<key_id>', 'the key id shown by "keys list"')
    .option('--json', 'print JSON')
    .action(async (keyId: string, opts: { json?: boolean }) => {
      const info = await withDatabase(config(), 'plugboard keys revoke', (h) => revokeApiKey(h.db, keyId));
      print(info, !!opts.json, () => `Key ${info.id} revoked at ${info.revoked_at}.`);
    });

  program.addCommand(integrationCommands(config));
  program.addCommand(sessionCommands(config));
  program.addCommand(accountCommands(config));
  program.addCommand(connectorCommands(config));
  program.addCommand(operatorCommands(config));

  program
    .command('rotate-key')
    .description('add a new credential encryption key and re-encrypt stored secrets with it, online')
    .option('--batch-size <n>', 'rows re-encrypted per transaction', positiveInt, 200)
    .option('--finish', 'only re-encrypt rows still under older keys, without adding a key')
    .option('--json', 'print JSON')
    .action(async (opts: { batchSize: number; finish?: boolean; json?: boolean }) => {
      const cfg = config();
      const masterKey = resolveMasterKey(cfg);
      if (masterKey.warning) process.stderr.write(`plugboard: warning: ${masterKey.warning}\n`);
      let result: RotationResult;
      try {
        result = await withDatabase(cfg, 'plugboard rotate-key', async (h) => {
          const vault = await openVault(h.db, masterKey.key);
          return rotateKey(h.db, vault, {
            batchSize: opts.batchSize,
            reencryptOnly: !!opts.finish,
            onProgress: opts.json
              ? undefined
              : (p) => {
                  process.stderr.write(`  ${p.table}: ${p.reencrypted} re-encrypted\n`);
                },
          });
        });
      } catch (err) {
        // A wrong master key is an operator mistake with a clear fix: one line, no stack.
        if (!(err instanceof VaultError)) throw err;
        process.stderr.write(`plugboard: ${err.message}\n`);
        process.exitCode = 1;
        return;
      }
      print(result, !!opts.json, () =>
        [
          `Key version ${result.version} is current${result.added ? ' (added now)' : ''}; re-encrypted ${result.accounts} account(s), ${result.integrations} auth config secret(s) and ${result.webhook_endpoints} webhook signing secret(s).`,
          ...(result.remaining.accounts + result.remaining.integrations + result.remaining.webhook_endpoints >
          0
            ? [
                `${result.remaining.accounts} account(s), ${result.remaining.integrations} auth config secret(s) and ${result.remaining.webhook_endpoints} webhook signing secret(s) are still under an older key (written or locked meanwhile; they stay readable). Run "plugboard rotate-key --finish" in a minute to re-encrypt them.`,
              ]
            : []),
          ...result.failed.map((f) => `Could not re-encrypt ${f.table} ${f.id}: ${f.message}`),
        ].join('\n'),
      );
      if (result.failed.length > 0) process.exitCode = 1;
    });

  return program;
}
