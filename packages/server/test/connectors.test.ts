import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { type AuthMethod, isSecretField } from '../src/connectors/auth-schema.ts';
import { CatalogueError, DEFAULT_CONNECTORS_DIR, loadCatalogue } from '../src/connectors/catalogue.ts';
import { type Connector, connectorSchema } from '../src/connectors/schema.ts';
import { fillTemplate, fillUrlTemplate, placeholdersOf } from '../src/connectors/templates.ts';
import { CATEGORIES } from '../src/schemas/common.ts';

// The connector catalogue: the JSON files in connectors/, the schema helpers, and how broken files are
// reported. Logos (and the route serving them) are in connector-logos.test.ts.

const catalogue = loadCatalogue();
const connectors = catalogue.list();
const methods = connectors.flatMap((c) => c.auth.map((method) => ({ connector: c, method })));

/** Providers the catalogue must cover (issue 3 and the connector brief). */
const REQUIRED = [
  'bamboohr',
  'hibob',
  'personio',
  'workday',
  'greenhouse',
  'lever',
  'ashby',
  'workable',
  'hubspot',
  'salesforce',
  'pipedrive',
  'jira',
  'zendesk',
  'freshdesk',
  'xero',
  'quickbooks',
  'slack',
  'googledrive',
  'okta',
];

/**
 * Authorization-code providers that take no scope parameter: Gusto and Workday set scopes on the
 * registered client, Notion grants access to the pages picked at sign-in.
 */
const NO_SCOPE_PARAMETER = new Set([
  'gusto',
  'notion',
  'workday',
  'freeagent',
  'exactonline',
  'employmenthero',
]);

describe('connector catalogue: the files', () => {
  test('every file in connectors/ passes the schema, and its key is its file name', () => {
    const files = fs
      .readdirSync(DEFAULT_CONNECTORS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    assert.equal(files.length, connectors.length, 'every file became a connector');
    for (const file of files) {
      const raw = JSON.parse(fs.readFileSync(path.join(DEFAULT_CONNECTORS_DIR, file), 'utf8'));
      const parsed = connectorSchema.safeParse(raw);
      assert.ok(parsed.success, `${file}: ${JSON.stringify(parsed.error?.issues)}`);
      assert.equal(`${parsed.data.key}.json`, file);
      assert.equal(catalogue.get(parsed.data.key)?.key, parsed.data.key);
    }
    assert.equal(new Set(connectors.map((c) => c.key)).size, connectors.length, 'keys are unique');
  });

  test('at least 30 providers across at least 8 primary categories, all of them valid', () => {
    assert.ok(connectors.length >= 30, `only ${connectors.length} connectors`);
    const primary = new Set(connectors.map((c) => c.categories[0]));
    assert.ok(primary.size >= 8, `only ${primary.size} primary categories: ${[...primary]}`);
    for (const c of connectors) {
      assert.ok(c.categories.length > 0, c.key);
      for (const category of c.categories) {
        assert.ok((CATEGORIES as readonly string[]).includes(category), `${c.key}: ${category}`);
      }
    }
    for (const key of REQUIRED) assert.ok(catalogue.get(key), `${key} is missing`);
  });

  test('list() is sorted by name and hands out copies; get() knows keys only', () => {
    const names = connectors.map((c) => c.name);
    assert.deepEqual(
      names,
      [...names].sort((a, b) => a.localeCompare(b, 'en')),
    );
    catalogue.list().pop();
    assert.equal(catalogue.list().length, connectors.length, 'a caller cannot shrink the catalogue');
    assert.equal(catalogue.get('nope'), undefined);
    assert.equal(catalogue.get('__proto__'), undefined);
    assert.equal(catalogue.get('toString'), undefined);
    assert.ok(Object.isFrozen(catalogue.get('bamboohr')!.auth[0]!.fields[0]), 'shared data is frozen');
  });

  test('every connector has a credential check that builds an https URL', () => {
    for (const { connector, method } of methods) {
      assert.ok(connector.check, `${connector.key} has no check`);
      const values = Object.fromEntries(
        [...method.fields.map((f) => f.key), 'access_token'].map((k) => [k, 'acme']),
      );
      const url = new URL(
        fillUrlTemplate(connector.api_base_url, values) + fillUrlTemplate(connector.check.path, values),
      );
      assert.equal(url.protocol, 'https:', connector.key);
      if (connector.check.body) assert.equal(connector.check.method, 'POST', connector.key);
    }
  });

  test('OAuth2 methods have real endpoints and scopes', () => {
    const oauth = methods.filter(
      (m): m is { connector: Connector; method: Extract<AuthMethod, { type: 'oauth2' }> } =>
        m.method.type === 'oauth2',
    );
    assert.ok(oauth.length >= 10, `only ${oauth.length} OAuth2 methods`);
    for (const { connector, method } of oauth) {
      const where = `${connector.key}/${method.key}`;
      assert.match(method.token_url, /^https:\/\//, `${where} token_url`);
      assert.deepEqual(placeholdersOf(method.apply.headers?.Authorization ?? ''), ['access_token'], where);
      if (method.grant_type === 'authorization_code') {
        assert.match(method.authorization_url ?? '', /^https:\/\//, `${where} authorization_url`);
        if (!NO_SCOPE_PARAMETER.has(connector.key)) assert.ok(method.scopes.length > 0, `${where} scopes`);
      } else {
        const keys = method.fields.map((f) => f.key);
        assert.ok(keys.includes('client_id') && keys.includes('client_secret'), where);
      }
    }
    const grants = new Set(oauth.map((m) => (m.method.type === 'oauth2' ? m.method.grant_type : '')));
    assert.deepEqual([...grants].sort(), ['authorization_code', 'client_credentials']);
  });

  test('custom methods collect a secret and say how it is sent', () => {
    const custom = methods.filter((m) => m.method.type === 'custom');
    assert.ok(custom.length >= 15, `only ${custom.length} custom methods`);
    for (const { connector, method } of custom) {
      assert.ok(method.fields.some(isSecretField), `${connector.key}: no secret field`);
      const apply = method.apply;
      assert.ok(apply.headers || apply.query || apply.basic, `${connector.key}: no apply`);
    }
  });

  test('settings spliced into URLs are non-secret and validated so they cannot change the host', () => {
    const hostile = ['evil.com/x', 'a@evil.com', 'a?b', 'a#b', 'a:1', 'a b', '../x', ''];
    let seen = 0;
    for (const { connector, method } of methods) {
      const urls = [
        connector.api_base_url,
        ...(method.type === 'oauth2' ? [method.authorization_url ?? '', method.token_url] : []),
      ];
      const inUrls = new Set(urls.flatMap(placeholdersOf));
      for (const field of method.fields.filter((f) => inUrls.has(f.key))) {
        const where = `${connector.key}.${field.key}`;
        seen++;
        assert.equal(isSecretField(field), false, `${where} is a setting, not a secret`);
        if (field.type === 'select') {
          for (const o of field.options ?? []) assert.match(o.value, /^[a-z0-9.-]+$/, where);
          continue;
        }
        assert.equal(field.type, 'text', where);
        assert.ok(field.validation, `${where} needs a validation pattern`);
        const pattern = new RegExp(field.validation.pattern);
        for (const value of hostile)
          assert.ok(!pattern.test(value), `${where} accepts ${JSON.stringify(value)}`);
        assert.ok(field.placeholder && pattern.test(field.placeholder), `${where}: its placeholder is valid`);
      }
    }
    assert.ok(seen >= 10, `only ${seen} URL settings`);
    for (const key of ['bamboohr', 'zendesk', 'freshdesk', 'workable', 'jira']) {
      const field = catalogue.get(key)!.auth[0]!.fields.find((f) => f.key === 'subdomain');
      assert.ok(field && field.type === 'text' && field.validation, `${key} takes a validated subdomain`);
    }
    const workday = catalogue.get('workday')!.auth[0]!.fields.map((f) => f.key);
    assert.deepEqual(workday.sort(), ['auth_host', 'host', 'tenant']);
  });
});

describe('connector catalogue: helpers', () => {
  test('secret rule: secret unless secret === false, always for passwords', () => {
    assert.equal(isSecretField({ type: 'text' }), true);
    assert.equal(isSecretField({ type: 'text', secret: false }), false);
    assert.equal(isSecretField({ type: 'password' }), true);
    assert.equal(isSecretField({ type: 'password', secret: false }), true);
    assert.equal(isSecretField({ type: 'select', secret: false }), false);
  });

  test('fillTemplate fills placeholders, encodes URL parts on request, and refuses missing values', () => {
    assert.equal(
      fillTemplate('https://{{s}}.x.com/{{p}}', { s: 'a/b', p: 'c d' }, { encode: true }),
      'https://a%2Fb.x.com/c%20d',
    );
    assert.equal(fillUrlTemplate('https://{{ s }}.x.com', { s: 'evil.com@' }), 'https://evil.com%40.x.com');
    assert.equal(fillTemplate('Token {{k}}', { k: 'a/b' }), 'Token a/b');
    assert.equal(fillTemplate('{{a}}/token:{{b}}', { a: 'x@y', b: '$&' }), 'x@y/token:$&');
    assert.equal(fillTemplate('no placeholders', {}), 'no placeholders');
    assert.throws(() => fillTemplate('{{missing}}', {}), /no value for \{\{missing\}\}/);
    assert.throws(() => fillTemplate('{{constructor}}', {}), /constructor/, 'no inherited properties');
    assert.deepEqual(placeholdersOf('https://{{host}}/{{ tenant }}/x'), ['host', 'tenant']);
  });
});

describe('connector catalogue: broken files fail loudly', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-connectors-'));
  const good = JSON.parse(fs.readFileSync(path.join(DEFAULT_CONNECTORS_DIR, 'bamboohr.json'), 'utf8'));
  const method = good.auth[0];
  const write = (file: string, content: unknown) =>
    fs.writeFileSync(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const broken: [file: string, content: unknown, problem: RegExp][] = [
    ['typo.json', '{ "key": ', /typo\.json: \(file\): is not valid JSON/],
    [
      'badcategory.json',
      { ...good, key: 'badcategory', categories: ['nope'] },
      /badcategory\.json: categories\.0: /,
    ],
    ['nocategory.json', { ...good, key: 'nocategory', categories: [] }, /nocategory\.json: categories: /],
    [
      'renamed.json',
      { ...good, key: 'other' },
      /renamed\.json: key: "other" must equal the file name "renamed"/,
    ],
    [
      'ghost.json',
      { ...good, key: 'ghost', api_base_url: 'https://{{tenant}}.example.com' },
      /ghost\.json: api_base_url: uses \{\{tenant\}\} but auth method "api_key" has no field "tenant"/,
    ],
    [
      'checkghost.json',
      { ...good, key: 'checkghost', check: { method: 'GET', path: '/users/{{user}}' } },
      /checkghost\.json: check\.path: uses \{\{user\}\}/,
    ],
    [
      'plainhttp.json',
      { ...good, key: 'plainhttp', api_base_url: 'http://api.example.com' },
      /plainhttp\.json: api_base_url: "http:\/\/api\.example\.com" must use https/,
    ],
    ['extra.json', { ...good, key: 'extra', colour: 'red' }, /extra\.json: \(file\): .*colour/],
    [
      'badregex.json',
      {
        ...good,
        key: 'badregex',
        auth: [
          {
            ...method,
            fields: [
              { ...method.fields[0], validation: { pattern: '([a-z', message: 'x' } },
              method.fields[1],
            ],
          },
        ],
      },
      /badregex\.json: auth\.0\.fields\.0\.validation\.pattern: is not a valid regular expression/,
    ],
    [
      'nooptions.json',
      {
        ...good,
        key: 'nooptions',
        auth: [
          {
            ...method,
            fields: [...method.fields, { key: 'region', label: 'Region', type: 'select', required: true }],
          },
        ],
      },
      /nooptions\.json: auth\.0\.fields\.2\.options: select fields need options/,
    ],
    [
      'dupfield.json',
      { ...good, key: 'dupfield', auth: [{ ...method, fields: [...method.fields, method.fields[1]] }] },
      /dupfield\.json: auth\.0\.fields\.2\.key: duplicate field key "api_key"/,
    ],
    [
      'nosecret.json',
      {
        ...good,
        key: 'nosecret',
        auth: [{ ...method, fields: [method.fields[0]], apply: { headers: { 'x-a': '{{subdomain}}' } } }],
      },
      /nosecret\.json: auth\.0\.fields: a custom method must collect at least one secret field/,
    ],
    [
      'openpassword.json',
      {
        ...good,
        key: 'openpassword',
        auth: [{ ...method, fields: [method.fields[0], { ...method.fields[1], secret: false }] }],
      },
      /openpassword\.json: auth\.0\.fields\.1\.secret: password fields are always secret/,
    ],
    [
      'noauthorize.json',
      {
        ...good,
        key: 'noauthorize',
        auth: [
          {
            key: 'oauth2',
            label: 'Sign in',
            type: 'oauth2',
            grant_type: 'authorization_code',
            token_url: 'https://example.com/token',
            scopes: ['read'],
            fields: [method.fields[0]],
            apply: { headers: { Authorization: 'Bearer {{access_token}}' } },
          },
        ],
      },
      /noauthorize\.json: auth\.0\.authorization_url: authorization_code methods need an authorization_url/,
    ],
    [
      'nosuchtype.json',
      { ...good, key: 'nosuchtype', auth: [{ ...method, type: 'saml' }] },
      /nosuchtype\.json: auth\.0\.type: /,
    ],
  ];

  test('every problem of every file is reported with the file path and where it is', () => {
    write('bamboohr.json', good);
    for (const [file, content] of broken) write(file, content);
    fs.writeFileSync(path.join(dir, 'README.txt'), 'not a connector');
    let error: unknown;
    try {
      loadCatalogue(dir);
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof CatalogueError, 'throws a CatalogueError');
    for (const [file, , problem] of broken) {
      assert.match(error.message, problem, `${file} not reported as expected:\n${error.message}`);
      assert.ok(error.message.includes(path.join(dir, file)), `${file}: the full path is named`);
    }
    assert.ok(!error.message.includes(path.join(dir, 'bamboohr.json')), 'the good file has no problem');
    for (const line of error.problems) assert.ok(line.startsWith(`${dir}${path.sep}`), line);
  });

  test('once the files are fixed the directory loads', () => {
    for (const [file] of broken) fs.rmSync(path.join(dir, file));
    const fixed = loadCatalogue(dir);
    assert.deepEqual(
      fixed.list().map((c) => c.key),
      ['bamboohr'],
    );
  });

  test('a missing directory is a CatalogueError too', () => {
    assert.throws(
      () => loadCatalogue(path.join(dir, 'missing')),
      (err: Error) =>
        err instanceof CatalogueError && err.message.includes('cannot read the connectors directory'),
    );
  });
});
