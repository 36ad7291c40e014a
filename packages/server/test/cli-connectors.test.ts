import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cliEnv, repoRoot, runCli } from './support/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-lint-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const attio = JSON.parse(fs.readFileSync(path.join(repoRoot, 'connectors/attio.json'), 'utf8'));

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('plugboard connectors lint', () => {
  test('every file of the catalogue is clean: exit 0', async () => {
    const files = fs
      .readdirSync(path.join(repoRoot, 'connectors'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.join(repoRoot, 'connectors', f));
    const res = await runCli(['connectors', 'lint', ...files], cliEnv());
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.equal(res.stdout, `${files.length} files OK.\n`);
  });

  test('one line per problem with the path in the file and what to fix; exit 1', async () => {
    const broken = write('attio.json', {
      ...attio,
      colour: '#fff',
      brand_color: 'red',
      categories: ['crm', 'gardening'],
      check: { method: 'GET', path: 'self' },
      docs_url: undefined,
    });
    const res = await runCli(['connectors', 'lint', broken], cliEnv());
    assert.equal(res.code, 1);
    const lines = res.stdout.trim().split('\n');
    assert.ok(
      lines.every((l) => l.startsWith(`${broken}: `)),
      res.stdout,
    );
    const problems = lines.map((l) => l.slice(broken.length + 2)).sort();
    assert.deepEqual(problems, [
      '(file): unknown field "colour": remove it or fix the spelling (docs/connectors.md lists every field)',
      'brand_color: must be a #RRGGBB colour',
      'categories.1: must be one of "ats", "hris", "hris-legacy", "crm", "iam", "marketing", "lms", "stackone", "documents", "ticketing", "screening", "messaging", "accounting", "scheduling"',
      'check.path: must start with "/"',
      'docs_url: is required: add it (string)',
    ]);
    assert.match(res.stderr, /5 problems in 1 file/);
  });

  test('rules across fields, the file name, JSON syntax and unreadable files are reported too', async () => {
    const undeclared = write('attio.json', {
      ...attio,
      auth: [{ ...attio.auth[0], apply: { headers: { Authorization: 'Bearer {{token}}' } } }],
    });
    const renamed = write('other.json', attio);
    const notJson = write('broken.json', '{ "key": ');
    const missing = path.join(dir, 'missing.json');
    const res = await runCli(['connectors', 'lint', undeclared, renamed, notJson, missing], cliEnv());
    assert.equal(res.code, 1);
    const lines = res.stdout.trim().split('\n');
    assert.deepEqual(lines, [
      `${undeclared}: auth.0.apply.headers.Authorization: uses {{token}} but auth method "access_token" has no field "token"`,
      `${renamed}: key: "attio" must equal the file name "other" (rename one of them)`,
      `${notJson}: (file): is not valid JSON (${lines[2]!.split('is not valid JSON (')[1]!.slice(0, -1)})`,
      `${missing}: (file): cannot be read (${lines[3]!.split('cannot be read (')[1]!.slice(0, -1)})`,
    ]);
  });
});
