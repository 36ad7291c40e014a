import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config.ts';
import { checkConnectorFile } from '../connectors/catalogue.ts';
import { loadConfiguredCatalogue } from '../sandbox/setup.ts';
import { CATEGORIES, type Category } from '../schemas/common.ts';
import { print } from './shared.ts';

const category = (value: string): Category => {
  if ((CATEGORIES as readonly string[]).includes(value)) return value as Category;
  throw new InvalidArgumentError(`must be one of: ${CATEGORIES.join(', ')}`);
};

/** `plugboard connectors list|lint`: the connector catalogue (connectors/*.json); no database. */
export function connectorCommands(config: () => Config): Command {
  const connectors = new Command('connectors').description(
    'the connector catalogue: list it, or check connector files (connectors/*.json)',
  );
  connectors
    .command('list')
    .description('list the connectors: key (for --connector and --provider), name and categories')
    .option('--category <category>', `only this category (${CATEGORIES.join(', ')})`, category)
    .option('--json', 'print JSON')
    .action((flags: { category?: Category; json?: boolean }) => {
      const rows = loadConfiguredCatalogue(config())
        .list()
        .filter((c) => !flags.category || c.categories.includes(flags.category))
        .map((c) => ({ key: c.key, name: c.name, categories: [...c.categories] }));
      print(rows, !!flags.json, () =>
        rows.length
          ? rows.map((c) => `${c.key}\t${c.name}\t${c.categories.join(', ')}`).join('\n')
          : `No connectors in category ${flags.category}.`,
      );
    });

  /**
   * The catalogue's own checks, for one file at a time, before a server refuses to start on it. One
   * line per problem: "<file>: <path in the file>: <what to fix>".
   */
  connectors
    .command('lint')
    .description('check connector files against the schema (docs/connectors.md); exits 1 on any problem')
    .argument('<files...>', 'connector files, e.g. connectors/attio.json')
    .action((files: string[]) => {
      let problems = 0;
      for (const file of files) {
        const result = checkConnectorFile(path.resolve(file));
        if ('problems' in result) {
          problems += result.problems.length;
          for (const problem of result.problems) process.stdout.write(`${file}: ${problem}\n`);
        }
      }
      const checked = `${files.length} file${files.length === 1 ? '' : 's'}`;
      if (problems) {
        process.stderr.write(`${problems} problem${problems === 1 ? '' : 's'} in ${checked}.\n`);
        process.exitCode = 1;
      } else {
        process.stdout.write(`${checked} OK.\n`);
      }
    });
  return connectors;
}
