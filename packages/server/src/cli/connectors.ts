import { Command, InvalidArgumentError } from 'commander';
import { loadCatalogue } from '../connectors/catalogue.ts';
import { CATEGORIES, type Category } from '../schemas/common.ts';
import { print } from './shared.ts';

const category = (value: string): Category => {
  if ((CATEGORIES as readonly string[]).includes(value)) return value as Category;
  throw new InvalidArgumentError(`must be one of: ${CATEGORIES.join(', ')}`);
};

/** `plugboard connectors list`: the catalogue this installation ships (connectors/*.json); no database. */
export function connectorCommands(): Command {
  const connectors = new Command('connectors').description('the connector catalogue');
  connectors
    .command('list')
    .description('list the connectors: key (for --connector and --provider), name and categories')
    .option('--category <category>', `only this category (${CATEGORIES.join(', ')})`, category)
    .option('--json', 'print JSON')
    .action((flags: { category?: Category; json?: boolean }) => {
      const rows = loadCatalogue()
        .list()
        .filter((c) => !flags.category || c.categories.includes(flags.category))
        .map((c) => ({ key: c.key, name: c.name, categories: [...c.categories] }));
      print(rows, !!flags.json, () =>
        rows.length
          ? rows.map((c) => `${c.key}\t${c.name}\t${c.categories.join(', ')}`).join('\n')
          : `No connectors in category ${flags.category}.`,
      );
    });
  return connectors;
}
