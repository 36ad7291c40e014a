import fs from 'node:fs';
import { Command, Option } from 'commander';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import { notFound, validationFailed } from '../errors.ts';
import { type AuthConfig, authConfigCreate, authConfigUpdate } from '../schemas/auth-configs.ts';
import {
  createIntegration,
  deleteIntegration,
  type IntegrationDeps,
  listIntegrations,
  projectOfIntegration,
  updateIntegration,
} from '../services/integrations.ts';
import { type ProjectContext, projectContext } from '../services/tenancy.ts';
import { PROJECT_OPTION, print, resolveProject, serviceDeps, withDatabase } from './shared.ts';

interface IntegrationFlags {
  project?: string;
  connector?: string;
  name?: string;
  authMethod?: string;
  environment?: string;
  default?: boolean;
  enabled?: boolean;
  disabled?: boolean;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  scopes?: string;
  apiBaseUrl?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  json?: boolean;
}

/** Options shared by create and update, named after the API's fields. */
function withIntegrationOptions(command: Command): Command {
  return command
    .option(...PROJECT_OPTION)
    .option('--name <name>', 'display name (the connector name by default)')
    .option('--auth-method <key>', "which of the connector's auth methods to offer")
    .addOption(new Option('--environment <env>').choices(['production', 'staging', 'development', 'test']))
    .option('--default', 'make it the default integration for its connector')
    .option('--disabled', 'create or switch it off (hidden from the hub)')
    .option('--enabled', 'switch it on')
    .option('--client-id <id>', 'OAuth client id of your app at the provider')
    .option('--client-secret <secret>', 'OAuth client secret (prefer --client-secret-file: argv is visible)')
    .option('--client-secret-file <path>', 'read the OAuth client secret from this file')
    .option('--scopes <list>', 'comma-separated OAuth scopes (the connector defaults otherwise)')
    .option('--api-base-url <url>', "override the connector's API base URL")
    .option('--authorization-url <url>', "override the connector's OAuth authorization URL")
    .option('--token-url <url>', "override the connector's OAuth token URL")
    .option('--json', 'print JSON');
}

/** Flags → the API's request body, so the CLI is validated by the same schema as POST /auth_configs. */
function bodyFrom(flags: IntegrationFlags): Record<string, unknown> {
  const secret = flags.clientSecretFile
    ? fs.readFileSync(flags.clientSecretFile, 'utf8').trim()
    : flags.clientSecret;
  const urls = {
    api_base_url: flags.apiBaseUrl,
    authorization_url: flags.authorizationUrl,
    token_url: flags.tokenUrl,
  };
  const hasUrls = Object.values(urls).some((u) => u !== undefined);
  return {
    connector_key: flags.connector,
    name: flags.name,
    authentication_config_key: flags.authMethod,
    environment: flags.environment,
    default: flags.default,
    enabled: flags.disabled ? false : flags.enabled ? true : undefined,
    oauth:
      flags.clientId || secret
        ? {
            client_id: flags.clientId,
            client_secret: secret,
            scopes: flags.scopes
              ?.split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          }
        : undefined,
    urls: hasUrls ? urls : undefined,
  };
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(JSON.parse(JSON.stringify(body)));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`);
  throw validationFailed(`Invalid options: ${problems.join('; ')}`, problems);
}

const describe = (a: AuthConfig) =>
  `${a.id}\t${a.connector_key}\t${a.name}\t${a.active ? 'enabled' : 'disabled'}${a.default ? '\tdefault' : ''}\t${a.authentication_config_key}`;

/**
 * `plugboard integrations …`: the auth configs of a project, for operators and scripts. Same services
 * and validation as the HTTP API, straight against the database (so, on PGlite, with the server stopped).
 */
export function integrationCommands(config: () => Config): Command {
  const run = <T>(
    purpose: string,
    findProject: (db: Db) => Promise<ProjectContext>,
    fn: (deps: IntegrationDeps, project: ProjectContext) => Promise<T>,
  ) => {
    const cfg = config();
    return withDatabase(cfg, purpose, async ({ db }) =>
      fn(await serviceDeps(cfg, db), await findProject(db)),
    );
  };
  const inProject = (projectId: string | undefined) => (db: Db) => resolveProject(db, projectId);
  // An integration id names its project: update and delete need no --project (given, it must match).
  const ofIntegration = (id: string, projectId: string | undefined) => async (db: Db) => {
    if (projectId !== undefined) return projectContext(db, projectId);
    const owner = await projectOfIntegration(db, id);
    if (!owner) throw notFound(`Auth config ${id}`);
    return projectContext(db, owner);
  };

  const integrations = new Command('integrations').description(
    'manage the integrations (auth configs) of a project: which connectors it offers, with which OAuth app',
  );

  withIntegrationOptions(
    integrations
      .command('create')
      .description('enable a connector in a project')
      .requiredOption('--connector <key>', 'connector key, e.g. bamboohr (GET /connectors/meta lists them)'),
  ).action(async (flags: IntegrationFlags) => {
    const body = parse(authConfigCreate, bodyFrom(flags));
    const created = await run('plugboard integrations create', inProject(flags.project), (deps, project) =>
      createIntegration(deps, project, body),
    );
    print(created, !!flags.json, () => `Integration created: ${describe(created)}`);
  });

  withIntegrationOptions(
    integrations.command('update').description('change an integration').argument('<id>', 'integration id'),
  ).action(async (id: string, flags: IntegrationFlags) => {
    const { connector_key: _ignored, ...body } = bodyFrom(flags);
    const patch = parse(authConfigUpdate, body);
    const updated = await run(
      'plugboard integrations update',
      ofIntegration(id, flags.project),
      (deps, project) => updateIntegration(deps, project, id, patch),
    );
    print(updated, !!flags.json, () => `Integration updated: ${describe(updated)}`);
  });

  integrations
    .command('list')
    .description("list a project's integrations")
    .option(...PROJECT_OPTION)
    .option('--json', 'print JSON')
    .action(async (flags: { project?: string; json?: boolean }) => {
      const { data } = await run('plugboard integrations list', inProject(flags.project), (deps, project) =>
        listIntegrations(deps, project, { page: 1, page_size: 1000 }),
      );
      print(data, !!flags.json, () => (data.length ? data.map(describe).join('\n') : 'No integrations.'));
    });

  integrations
    .command('delete')
    .description('delete an integration no linked account uses')
    .argument('<id>', 'integration id')
    .option('--project <project_id>', 'project id (optional: the integration id names its project)')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { project?: string; json?: boolean }) => {
      const deleted = await run(
        'plugboard integrations delete',
        ofIntegration(id, flags.project),
        (deps, project) => deleteIntegration(deps, project, id),
      );
      print(deleted, !!flags.json, () => `Integration ${deleted.id} deleted.`);
    });

  return integrations;
}
