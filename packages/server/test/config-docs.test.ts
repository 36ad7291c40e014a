import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, serverDir } from './support/cli.ts';

/** The variables config.ts reads: the keys of its environment schema. */
function configVariables(): string[] {
  const source = fs.readFileSync(path.join(serverDir, 'src/config.ts'), 'utf8');
  const schema = source.slice(source.indexOf('const envSchema = z.object({'));
  const body = schema.slice(0, schema.indexOf('\n});'));
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
}

test('.env.example and the README configuration table list every variable config.ts reads', () => {
  const variables = configVariables();
  assert.ok(variables.length > 20 && variables.includes('PORT'), variables.join(', '));
  const example = fs.readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Command line'));
  for (const name of variables) {
    assert.match(example, new RegExp(`^# ${name}=`, 'm'), `.env.example lists ${name}`);
    assert.ok(table.includes(`| \`${name}\` |`), `the README's configuration table lists ${name}`);
  }
  // Both say the public URL follows the port.
  assert.match(example, /^# PLUGBOARD_PUBLIC_URL=http:\/\/localhost:4000$/m);
  assert.match(example, /Default: http:\/\/localhost:\$PORT/);
  assert.ok(table.includes('| `PLUGBOARD_PUBLIC_URL` | `http://localhost:$PORT` |'));
});
