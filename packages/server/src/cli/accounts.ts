import { Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config.ts';
import { accountListQuery, type LinkedAccount } from '../schemas/accounts.ts';
import { ACCOUNT_TYPES } from '../schemas/common.ts';
import { listAccounts } from '../services/accounts.ts';
import { addAccountImportCommand } from './account-import.ts';
import { PROJECT_OPTION, print, resolveProject, serviceDeps, withDatabase } from './shared.ts';

const PAGE_SIZE = 1000;

/** The API's rule for `search` (GET /accounts), so the CLI refuses what the API would. */
const searchText = (v: string) => {
  const checked = accountListQuery.shape.search.safeParse(v);
  if (!checked.success) throw new InvalidArgumentError(checked.error.issues[0]?.message ?? 'invalid');
  return v;
};

interface AccountListFlags {
  project?: string;
  ownerId?: string;
  provider?: string;
  search?: string;
  type?: (typeof ACCOUNT_TYPES)[number];
  json?: boolean;
}

/** `plugboard accounts list`: a project's linked accounts, as GET /accounts returns them (no secrets). */
export function accountCommands(config: () => Config): Command {
  const accounts = new Command('accounts').description('linked accounts (what end customers connected)');
  accounts
    .command('list')
    .description("list a project's linked accounts, oldest first")
    .option(...PROJECT_OPTION)
    .option('--owner-id <id>', 'only this end customer (origin_owner_id)')
    .option('--provider <key>', 'only this connector')
    .option(
      '--search <text>',
      'only accounts whose owner id or name contains this text (any case)',
      searchText,
    )
    .addOption(new Option('--type <type>', 'only production or only test accounts').choices(ACCOUNT_TYPES))
    .option('--json', 'print JSON (the objects GET /accounts returns)')
    .action(async (flags: AccountListFlags) => {
      const cfg = config();
      const rows = await withDatabase(cfg, 'plugboard accounts list', async ({ db }) => {
        const deps = await serviceDeps(cfg, db);
        const project = await resolveProject(db, flags.project);
        const all: LinkedAccount[] = [];
        // The keyset cursor: every page costs the same, however many accounts there are.
        let cursor: string | undefined;
        do {
          const batch = await listAccounts(deps, project, {
            origin_owner_id: flags.ownerId,
            provider: flags.provider,
            search: flags.search,
            type: flags.type,
            page: 1,
            page_size: PAGE_SIZE,
            cursor,
          });
          all.push(...batch.accounts);
          cursor = batch.next;
        } while (cursor);
        return all;
      });
      print(rows, !!flags.json, () =>
        rows.length
          ? rows
              .map((a) =>
                [a.id, a.provider, a.status, a.origin_owner_id, a.origin_owner_name, a.created_at].join('\t'),
              )
              .join('\n')
          : 'No linked accounts.',
      );
    });
  addAccountImportCommand(accounts, config);
  return accounts;
}
