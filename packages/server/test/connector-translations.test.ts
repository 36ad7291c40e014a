import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadCatalogue } from '../src/connectors/catalogue.ts';
import { TRANSLATED_LANGUAGES } from '../src/connectors/translations-schema.ts';
import { localizeConnector, textLanguage } from '../src/services/connector-texts.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

const MOST_USED = [
  'hubspot',
  'salesforce',
  'bamboohr',
  'hibob',
  'personio',
  'greenhouse',
  'lever',
  'jira',
  'zendesk',
  'slack',
];

describe('connector translations', () => {
  const catalogue = loadCatalogue();

  test('translations only name fields, methods and options the connector has', () => {
    for (const connector of catalogue.list()) {
      for (const [lang, t] of Object.entries(connector.translations ?? {})) {
        const where = `${connector.key}.translations.${lang}`;
        const fields = new Map(connector.auth.flatMap((m) => m.fields).map((f) => [f.key, f]));
        for (const [key, texts] of Object.entries(t.fields ?? {})) {
          const field = fields.get(key);
          assert.ok(field, `${where}.fields.${key}: no such field`);
          for (const value of Object.keys(texts.options ?? {}))
            assert.ok(
              field.options?.some((o) => o.value === value),
              `${where}: option ${value}`,
            );
          if (texts.validation_message) assert.ok(field.validation, `${where}.fields.${key}: no validation`);
          if (texts.description) assert.ok(field.description, `${where}.fields.${key}: no description`);
        }
        for (const key of Object.keys(t.auth_labels ?? {}))
          assert.ok(
            connector.auth.some((m) => m.key === key),
            `${where}.auth_labels.${key}: no such auth method`,
          );
        if (t.notices) assert.equal(t.notices.length, connector.notices?.length ?? 0, `${where}.notices`);
        if (t.support_description) assert.ok(connector.support, `${where}: no support to translate`);
      }
    }
  });

  test('the ten most used connectors speak German, French and Spanish: every text an end user reads', () => {
    for (const key of MOST_USED) {
      const connector = catalogue.get(key);
      assert.ok(connector, key);
      for (const lang of TRANSLATED_LANGUAGES) {
        const t = connector.translations?.[lang];
        assert.ok(t, `${key} has no ${lang}`);
        const english = connector;
        const local = localizeConnector(connector, lang);
        if (english.support) assert.notEqual(local.support?.description, english.support.description, key);
        if (english.notices) assert.notDeepEqual(local.notices, english.notices, key);
        english.auth.forEach((method, m) => {
          assert.notEqual(local.auth[m]!.label, method.label, `${key} ${lang} auth ${method.key}`);
          method.fields.forEach((field, f) => {
            const out = local.auth[m]!.fields[f]!;
            assert.ok(t.fields?.[field.key]?.label, `${key} ${lang} ${field.key}: label`);
            if (field.description) assert.notEqual(out.description, field.description, `${key} ${field.key}`);
            if (field.validation)
              assert.notEqual(out.validation?.message, field.validation.message, `${key} ${field.key}`);
            // Only texts change: what the form submits and checks stays the same.
            assert.equal(out.key, field.key);
            assert.equal(out.type, field.type);
            assert.equal(out.validation?.pattern, field.validation?.pattern);
          });
        });
      }
    }
  });

  test('languages: a region or case still matches, anything else is English', () => {
    assert.equal(textLanguage('de-CH'), 'de');
    assert.equal(textLanguage('FR'), 'fr');
    assert.equal(textLanguage('es_MX'), 'es');
    assert.equal(textLanguage('en'), undefined);
    assert.equal(textLanguage('pt'), undefined);
    assert.equal(textLanguage(undefined), undefined);
  });
});

describe('hub connector texts by lang', () => {
  let server: TestServer;
  let key: string;
  let integrationId: string;
  let token: string;

  before(async () => {
    server = await startTestServer('pglite', { LOG_LEVEL: 'silent' });
    key = (await server.newProject()).api_key;
    integrationId = (
      await call(server, 'POST', '/auth_configs', { key, body: { connector_key: 'bamboohr' } })
    ).body.id;
    token = (
      await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: 'lang-1', origin_owner_name: 'Lang Co' },
      })
    ).body.token;
  });
  after(() => server.close());

  const form = async (query: string) => {
    const res = await call(server, 'GET', `/hub/connectors/${integrationId}${query}`, {
      headers: { 'x-hub-session-token': token, 'accept-language': 'de-DE,de;q=0.9' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.config;
  };

  test('German with ?lang=de; English without it, whatever Accept-Language says (StackOne hub)', async () => {
    const de = await form('?lang=de');
    assert.equal(de.configFields[0].label, 'Firmen-Subdomain');
    assert.equal(de.configFields[0].validation.error, 'Nur Buchstaben, Ziffern und Bindestriche, z. B. acme');
    assert.equal(de.configFields[0].validation.pattern, '^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$');
    assert.equal(de.configFields[1].placeholder, 'Ihr BambooHR-API-Schlüssel');
    assert.match(de.support.description, /API-Schlüssel/);
    assert.equal(de.name, 'BambooHR');

    const en = await form('');
    assert.equal(en.configFields[0].label, 'Company subdomain');
    assert.equal(en.support.description, 'Create an API key in BambooHR under your name > API Keys.');
    assert.deepEqual(await form('?lang=pt'), en, 'an untranslated language is English');
    assert.equal((await form('?lang=fr-CA')).configFields[0].label, "Sous-domaine de l'entreprise");

    const list = await call(server, 'GET', '/hub/connectors?lang=es', {
      headers: { 'x-hub-session-token': token },
    });
    assert.equal(list.status, 200);
    assert.equal(list.body.integrations[0].name, 'BambooHR');
  });
});
