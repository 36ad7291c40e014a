import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { startTestServer, type TestServer } from './support/server.ts';

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is arbitrary JSON.
type Json = any;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * The reference at /docs is complete: every response says what it means, every JSON body has an
 * example that the body's own schema accepts, and browser-only routes are documented as what they are.
 * (The document does not depend on the database, so PGlite alone is enough.)
 */
describe('OpenAPI document: descriptions and examples', () => {
  let server: TestServer;
  let doc: Json;
  const operations: Array<{ name: string; op: Json }> = [];

  /** Inlines #/components/schemas references so a schema can be checked on its own. */
  const inline = (schema: Json, seen: string[] = []): Json => {
    if (Array.isArray(schema)) return schema.map((s) => inline(s, seen));
    if (!schema || typeof schema !== 'object') return schema;
    if (typeof schema.$ref === 'string') {
      const name = schema.$ref.split('/').pop();
      assert.ok(!seen.includes(name), `recursive schema ${name}`);
      const target = doc.components.schemas[name];
      assert.ok(target, `unresolved ${schema.$ref}`);
      return inline(target, [...seen, name]);
    }
    return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v, seen)]));
  };

  before(async () => {
    server = await startTestServer('pglite', { LOG_LEVEL: 'silent' });
    doc = await (await fetch(`${server.url}/openapi.json`)).json();
    for (const [path, item] of Object.entries<Json>(doc.paths))
      for (const method of METHODS)
        if (item[method]) operations.push({ name: `${method.toUpperCase()} ${path}`, op: item[method] });
  });
  after(() => server.close());

  test('the document has the operations of every area', () => {
    assert.ok(operations.length >= 40, `only ${operations.length} operations`);
    for (const name of ['POST /connect_sessions', 'GET /accounts', 'GET /hub/connectors/{integration_id}'])
      assert.ok(
        operations.some((o) => o.name === name),
        name,
      );
  });

  test('every response has a description of its own', () => {
    for (const { name, op } of operations) {
      const statuses = Object.keys(op.responses ?? {});
      assert.ok(statuses.length > 0, `${name} documents no response`);
      for (const status of statuses) {
        const description = op.responses[status].description;
        assert.equal(typeof description, 'string', `${name} ${status}`);
        assert.ok(description.length >= 8, `${name} ${status}: "${description}"`);
        assert.notEqual(description, 'Default Response', `${name} ${status}`);
      }
    }
  });

  test('every request and response body has an example its schema accepts', () => {
    let checked = 0;
    for (const { name, op } of operations) {
      const bodies: Array<[string, Json]> = [];
      for (const [type, media] of Object.entries<Json>(op.requestBody?.content ?? {}))
        bodies.push([`request ${type}`, media]);
      for (const [status, response] of Object.entries<Json>(op.responses ?? {}))
        for (const [type, media] of Object.entries<Json>(response.content ?? {}))
          bodies.push([`${status} ${type}`, media]);
      for (const [where, media] of bodies) {
        const example = media.example ?? Object.values<Json>(media.examples ?? {})[0]?.value;
        assert.notEqual(example, undefined, `${name} ${where} has no example`);
        if (!where.endsWith('application/json')) continue;
        const schema = z.fromJSONSchema(inline(media.schema));
        const result = schema.safeParse(example);
        assert.ok(
          result.success,
          `${name} ${where}: the example does not match the schema: ${result.error?.message}`,
        );
        checked++;
      }
    }
    assert.ok(checked > 80, `only ${checked} JSON bodies checked`);
  });

  test('examples are realistic values, not generated filler', () => {
    const examples: Json[] = [];
    const collect = (node: Json) => {
      if (!node || typeof node !== 'object') return;
      if ('example' in node) examples.push(node.example);
      for (const value of Object.values(node)) collect(value);
    };
    collect(operations.map((o) => o.op));
    const text = JSON.stringify(examples);
    for (const filler of ['"string"', '"example"', 'lorem', 'foo', '"additionalProp1"'])
      assert.ok(!text.toLowerCase().includes(filler.toLowerCase()), `filler ${filler} in the document`);
    const create = doc.paths['/connect_sessions'].post;
    assert.equal(create.requestBody.content['application/json'].example.origin_owner_name, 'Acme Inc');
  });

  test('the OAuth start documents its real query parameters and a 302 with Location', () => {
    const start = doc.paths['/connect/oauth2/{integration_id}'].get;
    const query = start.parameters.filter((p: Json) => p.in === 'query');
    assert.deepEqual(query.map((p: Json) => p.name).sort(), [
      'connection_attempt_id',
      'redirect_uri',
      'token',
    ]);
    for (const p of start.parameters)
      assert.equal(typeof p.schema, 'object', `${p.name} has a schema object`);
    assert.match(start.description, /form/);
    for (const op of [start, doc.paths['/connect/oauth2/callback'].get]) {
      assert.ok(!op.responses['200'], 'redirects are not documented as 200');
      assert.ok(op.responses['302'].headers.location.description.length > 20);
      assert.equal(op.responses['302'].content, undefined);
    }
  });

  test('pages and images are documented with their media types', () => {
    assert.ok(doc.paths['/embedded/integrations'].get.responses['200'].content['text/html'].example);
    assert.ok(doc.paths['/connectors/logos/{file}'].get.responses['200'].content['image/svg+xml'].example);
  });

  test('hub routes declare the session token header; the UI carries Plugboard title and logo', async () => {
    assert.deepEqual(doc.paths['/hub/settings'].get.security, [{ hubSession: [] }]);
    assert.equal(doc.components.securitySchemes.hubSession.name, 'x-hub-session-token');
    assert.match(doc.info.description, /x-hub-session-token/);
    const html = await (await fetch(`${server.url}/docs/`)).text();
    assert.match(html, /<title>Plugboard API reference<\/title>/);
    const init = await (await fetch(`${server.url}/docs/static/swagger-initializer.js`)).text();
    const logo = /data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(init);
    assert.ok(logo, 'the top bar logo is replaced');
    assert.match(Buffer.from(logo[1]!, 'base64').toString(), /Plugboard/);
    assert.match(init, /"validatorUrl":null|validatorUrl: ?null/);
    const icon = await fetch(`${server.url}/docs/static/theme/plugboard.svg`);
    assert.equal(icon.status, 200);
    assert.match(await icon.text(), /^<svg/);
  });
});
