import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CATEGORIES } from '../src/schemas/common.ts';
import { backends } from './support/backends.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is arbitrary JSON.
type Json = any;

/** The OpenAPI document describes the connect session endpoints exactly as they validate. */
for (const backend of backends()) {
  describe(`OpenAPI for connect sessions (${backend})`, () => {
    let server: TestServer;
    let doc: Json;
    const resolve = (schema: Json): Json =>
      schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
    const refName = (schema: Json): string => schema.$ref.split('/').pop();

    before(async () => {
      server = await startTestServer(backend);
      const res = await call(server, 'GET', '/openapi.json');
      assert.equal(res.status, 200);
      doc = res.body;
    });
    after(() => server.close());

    test('POST /connect_sessions takes ConnectSessionCreate and answers 201 ConnectSessionTokenAuthLink', () => {
      assert.match(doc.openapi, /^3\.1\./);
      const op = doc.paths['/connect_sessions'].post;
      const bodySchema = op.requestBody.content['application/json'].schema;
      assert.match(refName(bodySchema), /^ConnectSessionCreate(Input)?$/);
      const create = resolve(bodySchema);
      assert.deepEqual(Object.keys(create.properties).sort(), [
        'account_id',
        'allowed_origins',
        'categories',
        'expires_in',
        'integration_id',
        'label',
        'metadata',
        'multiple',
        'origin_owner_id',
        'origin_owner_name',
        'origin_username',
        'provider',
        'provider_version',
        'type',
        'webhook_url',
      ]);
      assert.deepEqual(create.required.sort(), ['origin_owner_id', 'origin_owner_name']);
      assert.equal(create.additionalProperties, false, 'unknown fields are documented as refused');
      const expires = create.properties.expires_in.anyOf.find((s: Json) => s.type === 'integer');
      assert.deepEqual([expires.minimum, expires.maximum], [1, 604800]);
      // Requests accept alias spellings, so the request side may document the values in words.
      const categories = create.properties.categories.anyOf.find((s: Json) => s.type === 'array');
      const listed = categories.items.enum ?? categories.items.description.match(/One of: ([^(]*)/)[1];
      assert.deepEqual(Array.isArray(listed) ? listed : listed.trim().split(', '), [...CATEGORIES]);
      const type =
        create.properties.type.anyOf?.find((s: Json) => s.type === 'string') ?? create.properties.type;
      assert.match(type.description ?? type.enum.join(', '), /production, test/);
      assert.deepEqual(op.security, [{ basic: [] }, { bearer: [] }]);

      const created = op.responses['201'].content['application/json'].schema;
      assert.equal(refName(created), 'ConnectSessionTokenAuthLink');
      const link = resolve(created);
      for (const field of ['id', 'organization_id', 'project_id', 'token', 'auth_link_url', 'created_at'])
        assert.ok(link.required.includes(field), field);
      assert.equal(link.properties.id.type, 'integer');
      assert.equal(link.properties.organization_id.type, 'integer');
      for (const status of ['400', '401', '429'])
        assert.equal(refName(op.responses[status].content['application/json'].schema), 'Error', status);
      const error = doc.components.schemas.Error;
      assert.deepEqual(error.required.sort(), ['message', 'statusCode', 'timestamp']);
    });

    test('authenticate answers 201 ConnectSession without token; revoke is documented with 204 and 404', () => {
      const auth = doc.paths['/connect_sessions/authenticate'].post;
      assert.deepEqual(resolve(auth.requestBody.content['application/json'].schema).required, ['token']);
      const session = resolve(auth.responses['201'].content['application/json'].schema);
      assert.equal(refName(auth.responses['201'].content['application/json'].schema), 'ConnectSession');
      assert.ok(!('token' in session.properties));
      assert.ok(!('auth_link_url' in session.properties));
      const revoke = doc.paths['/connect_sessions/{id}'].delete;
      assert.ok(revoke.responses['204']);
      assert.ok(revoke.responses['404']);
      assert.equal(revoke.parameters[0].name, 'id');
      assert.equal(revoke.parameters[0].in, 'path');
    });

    test('/docs serves HTML that loads the generated document; health needs no key', async () => {
      const page = await fetch(`${server.url}/docs/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await page.text(), /<html/i);
      const docsJson = await call(server, 'GET', '/docs/json');
      assert.equal(docsJson.status, 200);
      assert.deepEqual(Object.keys(docsJson.body.paths).sort(), Object.keys(doc.paths).sort());
      for (const path of ['/health/live', '/health/ready']) {
        const res = await call(server, 'GET', path);
        assert.equal(res.status, 200, path);
        assert.deepEqual(res.body, { status: 'ok' });
      }
    });
  });
}
