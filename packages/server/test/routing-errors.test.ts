import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are arbitrary JSON.
function assertWire(res: { status: number; body: any }, status: number, context: string) {
  assert.equal(res.status, status, `${context}: ${JSON.stringify(res.body)}`);
  assert.deepEqual(
    Object.keys(res.body)
      .filter((k) => k !== 'errors')
      .sort(),
    ['message', 'statusCode', 'timestamp'],
    context,
  );
  assert.equal(res.body.statusCode, status, context);
  assert.match(res.body.timestamp, ISO, context);
  assert.doesNotMatch(JSON.stringify(res.body), /node_modules|\.ts:\d+|at [\w.]+ \(/, context);
}

/** Paths, methods and ids: every miss gets the right status, never a 405 that contradicts itself. */
for (const backend of backends()) {
  describe(`routes, methods and session ids (${backend})`, () => {
    let server: TestServer;
    let key: string;
    before(async () => {
      server = await startTestServer(backend);
      key = (await server.newProject()).api_key;
    });
    after(() => server.close());

    test('revoke takes a decimal id only: anything else is 400 naming params.id', async () => {
      for (const id of ['abc', '0', '-1', '1.5', '1e3', '0x10', '%2012', '99999999999999999999', '12abc']) {
        const res = await call(server, 'DELETE', `/connect_sessions/${id}`, { key });
        assertWire(res, 400, `id ${id}`);
        assert.deepEqual(res.body.errors, ['params.id: must be a numeric connect session id'], id);
      }
      // A well-formed id that does not exist is 404, and a real one is 204.
      assertWire(await call(server, 'DELETE', '/connect_sessions/123456789012345', { key }), 404, 'unknown');
      const created = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: 'o', origin_owner_name: 'O' },
      });
      assert.equal(
        (await call(server, 'DELETE', `/connect_sessions/${created.body.id}`, { key })).status,
        204,
      );
    });

    test('405 lists the methods the path really has, and never the one that was used', async () => {
      const cases: Array<[string, string, string]> = [
        ['PUT', '/connect_sessions', 'POST'],
        ['GET', '/connect_sessions', 'POST'],
        ['PATCH', '/connect_sessions', 'POST'],
        ['DELETE', '/connect_sessions', 'POST'],
        ['GET', '/connect_sessions/authenticate', 'POST, DELETE'],
        ['PUT', '/connect_sessions/7', 'DELETE'],
      ];
      for (const [method, path, allow] of cases) {
        const res = await call(server, method, path, { key, body: method === 'GET' ? undefined : {} });
        assertWire(res, 405, `${method} ${path}`);
        assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
        assert.ok(!allow.split(', ').includes(method));
      }
      // With a trailing slash the path is a different one; the answer must not claim POST is both
      // refused and allowed.
      const slash = await call(server, 'POST', '/connect_sessions/', {
        key,
        body: { origin_owner_id: 'o', origin_owner_name: 'O' },
      });
      assert.ok([404, 405].includes(slash.status), String(slash.status));
      if (slash.status === 405) assert.ok(!(slash.headers.get('allow') ?? '').split(', ').includes('POST'));
      const slashAuth = await call(server, 'POST', '/connect_sessions/authenticate/', {
        key,
        body: { token: 'x' },
      });
      assertWire(slashAuth, 404, 'authenticate/');
    });

    test('unknown routes are 404 with or without a key, and echo no query string', async () => {
      for (const k of [undefined, key, 'pbk_wrong']) {
        const res = await call(server, 'GET', '/v2/nothing?token=pbcs_secretvalue', { key: k });
        assertWire(res, 404, `key ${k}`);
        assert.ok(!JSON.stringify(res.body).includes('pbcs_secretvalue'));
      }
      assertWire(await call(server, 'POST', '/connect_session', { key, body: {} }), 404, 'singular');
      assertWire(await call(server, 'GET', '/', {}), 404, 'root');
    });

    test('API key checks come before body validation, so a keyless caller learns nothing', async () => {
      const res = await call(server, 'POST', '/connect_sessions', { body: { nonsense: true } });
      assertWire(res, 401, 'no key, bad body');
      const revoke = await call(server, 'DELETE', '/connect_sessions/abc', {});
      assertWire(revoke, 401, 'no key, bad id');
      const auth = await call(server, 'POST', '/connect_sessions/authenticate', {
        key: 'pbk_wrong',
        body: { token: 'pbcs_x' },
      });
      assertWire(auth, 401, 'bad key on authenticate');
      assert.equal(auth.body.message, 'Invalid or revoked API key.');
    });
  });
}
