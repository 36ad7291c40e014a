import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HubField } from '../../hub/src/api.ts';
import { credentialsToSend, displayMasked, fieldError, isMasked, isSecret } from '../../hub/src/form.ts';
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
});
