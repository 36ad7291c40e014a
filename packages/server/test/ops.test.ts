import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

for (const backend of backends()) {
  describe(`health, OpenAPI and docs (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(backend);
    });
    after(() => server.close());

    test('health endpoints answer without a key', async () => {
      assert.deepEqual((await call(server, 'GET', '/health/live')).body, { status: 'ok' });
      assert.deepEqual((await call(server, 'GET', '/health/ready')).body, { status: 'ok' });
    });

    test('/openapi.json documents the API from the same schemas', async () => {
      const doc = (await call(server, 'GET', '/openapi.json')).body;
      assert.equal(doc.openapi, '3.1.0');
      const create = doc.paths['/connect_sessions'].post;
      const schema = create.requestBody.content['application/json'].schema;
      const resolved = schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
      assert.ok(resolved.required.includes('origin_owner_id'));
      assert.ok('expires_in' in resolved.properties);
      assert.ok(create.responses['201']);
      for (const path of [
        '/connect_sessions/authenticate',
        '/accounts',
        '/auth_configs',
        '/hub/connectors',
        '/connectors/meta',
      ]) {
        assert.ok(doc.paths[path], path);
      }
      assert.ok(doc.components.securitySchemes.basic);
    });

    test('/docs serves the API reference page', async () => {
      const res = await fetch(`${server.url}/docs/`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await res.text(), /swagger/i);
    });
  });
}
