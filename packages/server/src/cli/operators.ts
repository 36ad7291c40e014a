import { Command } from 'commander';
import type { Config } from '../config.ts';
import { validationFailed } from '../errors.ts';
import { createOperator, listOperators } from '../services/console/operators.ts';
import { resetPassword } from '../services/console/password-change.ts';
import { print, withDatabase } from './shared.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is what `echo` and here-strings add; it is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** `plugboard operators …`: the people who sign in to the console at /console. */
export function operatorCommands(config: () => Config): Command {
  const operators = new Command('operators').description(
    'manage console operators (people who sign in at /console)',
  );
  operators
    .command('create')
    .description('create an operator; prints a one-time password they change at first sign-in')
    .requiredOption('--email <email>', 'the email they sign in with')
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; passwordStdin?: boolean; json?: boolean }) => {
      const password = opts.passwordStdin ? await readStdin() : undefined;
      if (password === '') throw validationFailed('Standard input was empty: pipe the password in.');
      const created = await withDatabase(config(), 'plugboard operators create', (h) =>
        createOperator(h.db, { email: opts.email, password }),
      );
      const result = {
        email: created.operator.email,
        ...(password === undefined ? { password: created.password } : {}),
      };
      print(result, !!opts.json, () =>
        password === undefined
          ? `Operator ${result.email} created. One-time password (shown once, to be changed at first sign-in): ${created.password}`
          : `Operator ${result.email} created with the password from standard input.`,
      );
    });
  operators
    .command('list')
    .description('list operators')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withDatabase(config(), 'plugboard operators list', (h) => listOperators(h.db));
      print(rows, !!opts.json, () => rows.map((o) => `${o.email}\tcreated ${o.created_at}`).join('\n'));
    });
  operators
    .command('reset-password')
    .description('give an operator a new one-time password and end their sessions')
    .requiredOption('--email <email>', 'the operator')
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; json?: boolean }) => {
      const password = await withDatabase(config(), 'plugboard operators reset-password', (h) =>
        resetPassword(h.db, opts.email),
      );
      if (password === undefined) throw validationFailed(`No operator has the email ${opts.email}.`);
      print(
        { email: opts.email.trim().toLowerCase(), password },
        !!opts.json,
        () => `New one-time password: ${password}`,
      );
    });
  return operators;
}
