import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { createSession } from './support/connect.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

/** Beyond the reference: a session bound to allowed_origins refuses browsers on other pages. */
for (const backend of backends()) {
  describe(`session allowed_origins (${backend})`, () => {
    let server: TestServer;
    let key: string;
    before(async () => {
      server = await startTestServer(backend);
      key = (await server.newProject()).api_key;
    });
    after(() => server.close());

    const settings = (token: string, origin?: string) =>
      call(server, 'GET', '/hub/settings', {
        headers: { 'x-hub-session-token': token, ...(origin ? { origin } : {}) },
      });

    test('origins are normalised, stored and enforced on /hub/*', async () => {
      const session = await createSession(server, key, {
        allowed_origins: ['https://app.example.test/some/path'],
      });
      const authed = await call(server, 'POST', '/connect_sessions/authenticate', {
        key,
        body: { token: session.token },
      });
      assert.deepEqual(authed.body.allowed_origins, ['https://app.example.test']);
      assert.equal((await settings(session.token, 'https://app.example.test')).status, 200);
      assert.equal((await settings(session.token)).status, 200, 'no Origin: not a cross-origin browser call');
      assert.equal(
        (await settings(session.token, new URL(server.url).origin)).status,
        200,
        "Plugboard's own page",
      );
      const refused = await settings(session.token, 'https://evil.example.test');
      assert.equal(refused.status, 403);
      assert.equal(refused.body.statusCode, 403);
      const open = await createSession(server, key);
      assert.equal((await settings(open.token, 'https://anywhere.example.test')).status, 200);
    });

    test('invalid origins are refused at creation', async () => {
      const res = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: 'o', origin_owner_name: 'O', allowed_origins: ['not a url'] },
      });
      assert.equal(res.status, 400);
    });
  });
}
