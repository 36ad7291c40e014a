import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { HubClient, HubError, type HubField } from '../../hub/src/api.ts';
import {
  credentialsToSend,
  displayMasked,
  fieldError,
  isMasked,
  isSecret,
  validateAll,
} from '../../hub/src/form.ts';
import { de } from '../../hub/src/i18n/de.ts';
import { en } from '../../hub/src/i18n/en.ts';
import { es } from '../../hub/src/i18n/es.ts';
import { fr } from '../../hub/src/i18n/fr.ts';
import { pickLocale, translator } from '../../hub/src/i18n/index.ts';

const field = (over: Partial<HubField>): HubField => ({
  key: 'k',
  label: 'Key',
  type: 'text',
  required: true,
  readOnly: false,
  secret: false,
  placeholder: '',
  ...over,
});

describe('hub element logic', () => {
  const t = translator('en');

  test('locale: attribute, then browser preferences, then English', () => {
    assert.equal(pickLocale('de', ['fr-FR']), 'de');
    assert.equal(pickLocale(null, ['pt-BR', 'es-MX']), 'es');
    assert.equal(pickLocale('DE-at'), 'de');
    assert.equal(pickLocale('ja', ['zh']), 'en');
    assert.equal(translator('fr')('form.title', { name: 'Xero' }), 'Connecter Xero');
    assert.equal(translator('de')('categories.crm'), 'CRM', 'missing translations fall back to English');
  });

  test('field validation: required, number, select, pattern', () => {
    assert.equal(fieldError(field({}), '  ', t), 'Key is required');
    assert.equal(fieldError(field({ required: false }), '', t), undefined);
    assert.equal(fieldError(field({ type: 'number' }), '12a', t), 'Enter a number');
    assert.equal(fieldError(field({ type: 'number' }), '12.5', t), undefined);
    const select = field({ type: 'select', options: [{ label: 'EU', value: 'eu' }] });
    assert.equal(fieldError(select, 'us', t), 'Choose one of the options');
    const pattern = field({
      validation: { type: 'html-pattern', pattern: '^[a-z]+$', error: 'Lowercase only' },
    });
    assert.equal(fieldError(pattern, 'ABC', t), 'Lowercase only');
    assert.equal(fieldError(pattern, 'abc', t), undefined);
  });

  test('secrets: the mask is recognised, shown as dots, and kept secrets are not sent', () => {
    const masked = '__secretvalue:**redacted**wxyz';
    assert.ok(isMasked(masked));
    assert.ok(!isMasked('plain'));
    assert.equal(displayMasked(masked), '••••••••wxyz');
    assert.equal(isSecret(field({ type: 'password', secret: false })), true);
    const fields = [field({ key: 'subdomain' }), field({ key: 'api_key', type: 'password' })];
    assert.deepEqual(credentialsToSend(fields, { subdomain: 'acme', api_key: '' }, new Set(['api_key'])), {
      subdomain: 'acme',
    });
    assert.deepEqual(credentialsToSend(fields, { subdomain: 'acme', api_key: 'new' }, new Set()), {
      subdomain: 'acme',
      api_key: 'new',
    });
  });

  test('catalogues: every language has every message, with the same placeholders', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [name, catalogue] of Object.entries({ de, fr, es })) {
      assert.deepEqual(Object.keys(catalogue).sort(), Object.keys(en).sort(), `${name} is complete`);
      for (const [key, text] of Object.entries(en))
        assert.deepEqual(
          placeholders(catalogue[key as keyof typeof en]),
          placeholders(text),
          `${name}: ${key} keeps its placeholders`,
        );
    }
    assert.equal(translator('es')('form.title', { name: 'Xero' }), 'Conectar Xero');
    assert.equal(t('form.title'), 'Connect {name}', 'a missing parameter stays visible, not "undefined"');
  });

  test('pattern validation: the wire "error", the connector file "message", a broken pattern', () => {
    const wire = field({ validation: { type: 'html-pattern', pattern: '^\\d{4}$', error: 'Four digits' } });
    assert.equal(fieldError(wire, '12', t), 'Four digits');
    const file = field({ validation: { pattern: '^\\d{4}$', message: 'Use four digits' } });
    assert.equal(fieldError(file, '12', t), 'Use four digits');
    assert.equal(fieldError(field({ validation: { pattern: '^x' } }), 'y', t), t('error.pattern'));
    assert.equal(fieldError(field({ validation: { pattern: '([' } }), 'anything', t), undefined);
    assert.equal(fieldError(field({ required: false, validation: { pattern: '^x' } }), '', t), undefined);
  });

  test('validateAll reports each problem once and skips secrets kept from the stored account', () => {
    const fields = [
      field({ key: 'subdomain', label: 'Subdomain' }),
      field({ key: 'api_key', label: 'API key', type: 'password' }),
      field({ key: 'region', label: 'Region', type: 'select', options: [{ label: 'EU', value: 'eu' }] }),
    ];
    assert.deepEqual(validateAll(fields, { region: 'us' }, t, new Set()), {
      subdomain: 'Subdomain is required',
      api_key: 'API key is required',
      region: 'Choose one of the options',
    });
    assert.deepEqual(validateAll(fields, { subdomain: 'acme', region: 'eu' }, t, new Set(['api_key'])), {});
  });

  test('PATCH body: untouched secrets left out, read-only values and changed secrets sent', () => {
    const fields = [
      field({ key: 'subdomain' }),
      field({ key: 'api_key', type: 'password' }),
      field({ key: 'client_secret', secret: true }),
      field({ key: 'external-trigger-token', readOnly: true, secret: false }),
      field({ key: 'note', required: false }),
    ];
    const values = {
      subdomain: 'acme',
      api_key: '__secretvalue:**redacted**wxyz',
      client_secret: 'fresh-secret',
      'external-trigger-token': 'ett_123',
      note: '',
    };
    assert.deepEqual(credentialsToSend(fields, values, new Set(['api_key'])), {
      subdomain: 'acme',
      client_secret: 'fresh-secret',
      'external-trigger-token': 'ett_123',
    });
    assert.equal(isSecret(field({ secret: undefined as unknown as boolean })), true, 'secret unless false');
    assert.ok(isMasked('__secretvalue:**redacted**'), 'a mask without visible characters');
    assert.equal(displayMasked('__secretvalue:**redacted**'), '••••••••');
  });

  test('the client sends the hub headers and body, and reads wire errors with provider_response', async () => {
    const seen: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }> =
      [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST') {
          res.statusCode = 400;
          res.end(
            JSON.stringify({
              statusCode: 400,
              message: 'Rejected',
              provider_response: '{"error":"bad key"}',
            }),
          );
        } else res.end(JSON.stringify({ id: 'acc_1', provider: 'bamboohr' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const client = new HubClient(base, 'tok_1');
      const updated = await client.updateAccount('acc 1', 'int-1', { subdomain: 'acme' });
      assert.deepEqual(updated, { id: 'acc_1', provider: 'bamboohr' });
      const patch = seen[0]!;
      assert.equal(patch.method, 'PATCH');
      assert.equal(patch.url, '/hub/accounts/acc%201');
      assert.equal(patch.headers['x-hub-session-token'], 'tok_1');
      assert.ok(patch.headers['x-hub-version']);
      assert.equal(patch.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(patch.body), {
        integration_id: 'int-1',
        credentials: { subdomain: 'acme' },
      });

      await client.settings();
      assert.equal(seen[1]!.headers['content-type'], 'application/json', 'even on GET');

      const failure = await client.createAccount('int-1', { api_key: 'x' }).catch((e: unknown) => e);
      assert.ok(failure instanceof HubError);
      assert.equal(failure.status, 400);
      assert.equal(failure.message, 'Rejected');
      assert.equal(failure.providerResponse, '{"error":"bad key"}');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const unreachable = await new HubClient('http://127.0.0.1:9', 't').settings().catch((e: unknown) => e);
    assert.ok(unreachable instanceof HubError);
    assert.equal(unreachable.status, 0);
  });
});
