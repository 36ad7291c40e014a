import path from 'node:path';
import { Command } from 'commander';
import { checkConnectorFile } from '../connectors/catalogue.ts';

/**
 * `plugboard connectors lint FILE...`: the catalogue's own checks, for one file at a time, before a
 * server refuses to start on it. One line per problem: "<file>: <path in the file>: <what to fix>".
 */
export function connectorCommands(): Command {
  const connectors = new Command('connectors').description('work on connector files (connectors/*.json)');
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
