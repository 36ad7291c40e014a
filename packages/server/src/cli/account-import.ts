import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { createAppContext } from '../context.ts';
import { resolveMasterKey } from '../crypto/master-key.ts';
import { openVault } from '../crypto/vault.ts';
import { DomainError } from '../errors.ts';
import { loadConfiguredCatalogue } from '../sandbox/setup.ts';
import { accountImport } from '../schemas/accounts.ts';
import { type ImportDeps, importAccount } from '../services/account-import.ts';
import { type ProjectContext, projectContext } from '../services/tenancy.ts';
import { positiveInt, withDatabase } from './shared.ts';

/** Lines imported at the same time (PostgreSQL spreads them over its pool; PGlite runs them in turn). */
const DEFAULT_PARALLEL = 8;
/** A progress line on stderr every this many lines. */
const PROGRESS_EVERY = 1000;

export interface ImportSummary {
  created: number;
  existing: number;
  failed: number;
}

/** Why one line was refused, in the words an operator fixes the file with. */
function reasonOf(err: unknown): string {
  if (err instanceof SyntaxError) return `not JSON (${err.message})`;
  if (err instanceof DomainError) {
    const errors = (err.details.errors as string[] | undefined) ?? [];
    return errors.length ? `${err.message} ${errors.join('; ')}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Imports JSON lines, one POST /accounts body per line. Every line is tried; each refused line is
 * reported with its number and reason. Lines with an external_id are idempotent, so the same file can
 * simply be run again after fixing the refused lines.
 */
export async function importAccountLines(
  deps: ImportDeps,
  project: ProjectContext,
  lines: AsyncIterable<string>,
  options: { parallel?: number; report?: (line: string) => void } = {},
): Promise<ImportSummary> {
  const report = options.report ?? ((line: string) => process.stderr.write(`${line}\n`));
  const summary: ImportSummary = { created: 0, existing: 0, failed: 0 };
  const importLine = async (text: string, number: number) => {
    try {
      const parsed = accountImport.safeParse(JSON.parse(text));
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`);
        throw new DomainError('validation_failed', problems.join('; '));
      }
      const { created } = await importAccount(deps, project, parsed.data);
      summary[created ? 'created' : 'existing']++;
    } catch (err) {
      summary.failed++;
      report(`line ${number}: ${reasonOf(err)}`);
    }
  };
  const parallel = options.parallel ?? DEFAULT_PARALLEL;
  const inFlight = new Set<Promise<void>>();
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text.trim() === '') continue;
    const task = importLine(text, number).finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (inFlight.size >= parallel) await Promise.race(inFlight);
    if (number % PROGRESS_EVERY === 0) {
      report(
        `${number} lines read: ${summary.created} created, ${summary.existing} already there, ${summary.failed} failed`,
      );
    }
  }
  await Promise.all(inFlight);
  return summary;
}

/** `plugboard accounts import FILE`: opens the database and key ring, then imports the file. */
async function importAccountsFile(
  config: Config,
  file: string,
  projectId: string,
  parallel?: number,
): Promise<ImportSummary> {
  const catalogue = loadConfiguredCatalogue(config);
  return withDatabase(config, 'plugboard accounts import', async (handle) => {
    const vault = await openVault(handle.db, resolveMasterKey(config).key);
    const context = createAppContext({ config, db: handle.db, vault, catalogue });
    try {
      const project = await projectContext(handle.db, projectId);
      const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
      return await importAccountLines(
        { db: handle.db, vault, catalogue, outbound: context.outbound },
        project,
        lines,
        { parallel },
      );
    } finally {
      await context.outbound.close();
    }
  });
}

/** `plugboard accounts import FILE`, added to the `accounts` command. */
export function addAccountImportCommand(accounts: Command, config: () => Config): void {
  accounts
    .command('import')
    .description(
      'import accounts from a JSON-lines file, one POST /accounts body per line; re-runs skip lines whose external_id is already there',
    )
    .argument(
      '<file>',
      'JSON lines: {"integration_id", "origin_owner_id", "origin_owner_name", "external_id", "credentials" | "oauth", …}',
    )
    .requiredOption('--project <project_id>', 'project the accounts belong to')
    .option('--parallel <n>', `lines imported at the same time (default ${DEFAULT_PARALLEL})`, positiveInt)
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { project: string; parallel?: number; json?: boolean }) => {
      const summary = await importAccountsFile(config(), file, opts.project, opts.parallel);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(summary)}\n`
          : `Imported: ${summary.created} created, ${summary.existing} already there, ${summary.failed} failed.\n`,
      );
      if (summary.failed > 0) process.exitCode = 1;
    });
}
