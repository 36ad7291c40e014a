import { Command } from 'commander';
import type { Config } from '../config.ts';
import { validationFailed } from '../errors.ts';
import { webhookPolicy } from '../outbound/address-policy.ts';
import { connectSessionCreate, DEFAULT_EXPIRES_IN } from '../schemas/connect-sessions.ts';
import { createConnectSession } from '../services/connect-sessions.ts';
import { PROJECT_OPTION, positiveInt, print, resolveProject, serviceDeps, withDatabase } from './shared.ts';

interface SessionFlags {
  project?: string;
  ownerId: string;
  ownerName: string;
  provider?: string;
  expiresIn?: number;
  json?: boolean;
}

/**
 * `plugboard sessions create`: a connect link for one end customer, made by the same service and
 * validated by the same schema as POST /connect_sessions. With the embedded database it runs while the
 * server is stopped (one process per data directory); the link works once the server runs.
 */
export function sessionCommands(config: () => Config): Command {
  const sessions = new Command('sessions').description('create connect sessions (links for end customers)');
  sessions
    .command('create')
    .description('create a connect session and print its link (auth_link_url) for the end customer to open')
    .option(...PROJECT_OPTION)
    .requiredOption('--owner-id <id>', 'your id for the end customer (origin_owner_id), e.g. customer-42')
    .requiredOption('--owner-name <name>', 'their display name (origin_owner_name), e.g. "Acme Inc"')
    .option('--provider <key>', 'offer only this connector ("plugboard connectors list" shows the keys)')
    .option('--expires-in <seconds>', 'how long the link works (default 1800, at most 604800)', positiveInt)
    .option('--json', 'print the API response as JSON (token, auth_link_url, …)')
    .action(async (flags: SessionFlags) => {
      const parsed = connectSessionCreate.safeParse({
        origin_owner_id: flags.ownerId,
        origin_owner_name: flags.ownerName,
        provider: flags.provider,
        expires_in: flags.expiresIn,
      });
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
        throw validationFailed(`Invalid options: ${problems.join('; ')}`, problems);
      }
      const cfg = config();
      const session = await withDatabase(cfg, 'plugboard sessions create', async ({ db }) => {
        const deps = await serviceDeps(cfg, db);
        const project = await resolveProject(db, flags.project);
        return createConnectSession(
          { ...deps, webhookPolicy: webhookPolicy(cfg.webhooks.allowedRanges) },
          project,
          parsed.data,
        );
      });
      const seconds = parsed.data.expires_in ?? DEFAULT_EXPIRES_IN;
      const validFor = seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} seconds`;
      print(session, !!flags.json, () =>
        [
          `Connect session ${session.id} for ${session.origin_owner_name} (${session.origin_owner_id}) in project ${session.project_id}; the link works for ${validFor}:`,
          '',
          session.auth_link_url,
        ].join('\n'),
      );
    });
  return sessions;
}
