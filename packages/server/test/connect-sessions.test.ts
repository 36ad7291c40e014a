import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

for (const backend of backends()) {
  describe(`connect sessions (${backend})`, () => {
    let server: TestServer;
    let key: string;
    before(async () => {
      server = await startTestServer(backend);
      key = (await server.newProject()).api_key;
    });
    after(() => server.close());

    test('create then authenticate returns the same session', async () => {
      const created = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: 'cust-1', origin_owner_name: 'Acme', label: 'Main HR' },
      });
      assert.equal(created.status, 201);
      assert.match(created.body.token, /^pbcs_/);
      const authed = await call(server, 'POST', '/connect_sessions/authenticate', {
        key,
        body: { token: created.body.token },
      });
      assert.equal(authed.status, 201);
      assert.equal(authed.body.id, created.body.id);
      assert.equal(authed.body.label, 'Main HR');
      assert.equal(authed.body.token, undefined);
      assert.equal(authed.body.auth_link_url, undefined);
    });
  });
}
