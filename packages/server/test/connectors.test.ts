import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CatalogueError, loadCatalogue } from '../src/connectors/catalogue.ts';
import { connectorLogoSvg, monogramSvg } from '../src/connectors/logos.ts';
import { fillTemplate, isSecretField } from '../src/connectors/schema.ts';
import { CATEGORIES } from '../src/schemas/common.ts';

describe('connector catalogue', () => {
  const catalogue = loadCatalogue();
  const connectors = catalogue.list();

  test('every connector file passes the schema; keys are unique and equal file names', () => {
    assert.ok(connectors.length >= 30, `only ${connectors.length} connectors`);
    assert.equal(new Set(connectors.map((c) => c.key)).size, connectors.length);
    for (const c of connectors) assert.equal(catalogue.get(c.key), c);
  });

  test('connectors span the categories, with real auth definitions', () => {
    const primary = new Set(connectors.map((c) => c.categories[0]));
    assert.ok(primary.size >= 8, `only ${primary.size} categories`);
    for (const c of connectors) {
      for (const category of c.categories) assert.ok((CATEGORIES as readonly string[]).includes(category));
      assert.match(c.api_base_url, /^https:\/\//, c.key);
      for (const method of c.auth) {
        if (method.type === 'oauth2') {
          assert.match(method.token_url, /^https:\/\//, `${c.key} token_url`);
          if (method.grant_type === 'authorization_code') {
            assert.match(method.authorization_url ?? '', /^https:\/\//, `${c.key} authorization_url`);
          }
        } else {
          assert.ok(
            method.fields.some(isSecretField),
            `${c.key}: a custom method collects at least one secret`,
          );
        }
      }
    }
    const types = new Set(connectors.flatMap((c) => c.auth.map((m) => m.type)));
    assert.deepEqual([...types].sort(), ['custom', 'oauth2']);
  });

  test('secret rule: secret unless secret === false, always for passwords', () => {
    assert.equal(isSecretField({ type: 'text' }), true);
    assert.equal(isSecretField({ type: 'text', secret: false }), false);
    assert.equal(isSecretField({ type: 'password', secret: false }), true);
  });

  test('fillTemplate encodes URL parts and refuses missing values', () => {
    assert.equal(
      fillTemplate('https://{{s}}.x.com/{{p}}', { s: 'a/b', p: 'c d' }, { encode: true }),
      'https://a%2Fb.x.com/c%20d',
    );
    assert.equal(fillTemplate('Token {{k}}', { k: 'a/b' }), 'Token a/b');
    assert.throws(() => fillTemplate('{{missing}}', {}), /missing/);
  });

  test('a broken file fails loudly with its path and the problem', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-connectors-'));
    const good = JSON.parse(
      fs.readFileSync(
        path.join(path.dirname(new URL(import.meta.url).pathname), '../../../connectors/bamboohr.json'),
        'utf8',
      ),
    );
    fs.writeFileSync(path.join(dir, 'bamboohr.json'), JSON.stringify(good));
    fs.writeFileSync(
      path.join(dir, 'broken.json'),
      JSON.stringify({ ...good, key: 'broken', categories: ['nope'] }),
    );
    fs.writeFileSync(path.join(dir, 'typo.json'), '{ "key": ');
    fs.writeFileSync(
      path.join(dir, 'ghost.json'),
      JSON.stringify({ ...good, key: 'ghost', api_base_url: 'https://{{tenant}}.example.com' }),
    );
    try {
      assert.throws(
        () => loadCatalogue(dir),
        (err: Error) =>
          err instanceof CatalogueError &&
          err.message.includes(path.join(dir, 'broken.json')) &&
          err.message.includes('categories') &&
          err.message.includes(`${path.join(dir, 'typo.json')}: not valid JSON`) &&
          err.message.includes('{{tenant}}'),
      );
      fs.rmSync(path.join(dir, 'broken.json'));
      fs.rmSync(path.join(dir, 'typo.json'));
      fs.rmSync(path.join(dir, 'ghost.json'));
      assert.equal(loadCatalogue(dir).list().length, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('logos: brand marks where simple-icons has them, monograms otherwise, all valid SVG', async () => {
    for (const c of connectors) {
      const svg = await connectorLogoSvg(c);
      assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>.*<\/svg>$/s, c.key);
      if (c.logo?.simple_icon)
        assert.match(svg, /<path fill="#[0-9A-Fa-f]{6}"/, `${c.key} brand icon missing`);
      else assert.match(svg, /<text /, `${c.key} monogram`);
    }
    assert.match(monogramSvg('x', 'A <b>&'), /A &lt;B&gt;|A &lt;/);
    assert.ok(!monogramSvg('x', '<script>').includes('<script>'));
  });
});
