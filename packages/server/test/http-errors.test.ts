import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { revokeApiKey } from '../src/services/tenancy.ts';
import { backends } from './support/backends.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

const valid = { origin_owner_id: 'c1', origin_owner_name: 'Acme' };

function assertWireError(
  res: Pick<Awaited<ReturnType<typeof call>>, 'status' | 'body'>,
  status: number,
  context: string,
) {
  assert.equal(res.status, status, `${context}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.statusCode, status, context);
  assert.equal(typeof res.body.message, 'string', context);
  assert.ok(res.body.message.length > 0, context);
  assert.ok(!Number.isNaN(Date.parse(res.body.timestamp)), context);
  assert.ok(
    !/at .*\.ts:\d+|node_modules|Error:/.test(JSON.stringify(res.body)),
    `${context}: no stack traces`,
  );
}

for (const backend of backends()) {
  describe(`errors in the wire shape (${backend})`, () => {
    let server: TestServer;
    let key: string;
    before(async () => {
      server = await startTestServer(backend, { PLUGBOARD_BODY_LIMIT_BYTES: '2048' });
      key = (await server.newProject()).api_key;
    });
    after(() => server.close());

    test('validation errors list every problem', async () => {
      const res = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: '', expires_in: 1.5, categorie: ['hris'], multiple: 'yes' },
      });
      assertWireError(res, 400, 'validation');
      const joined = res.body.errors.join('\n');
      for (const needle of [
        'body.origin_owner_id',
        'body.origin_owner_name',
        'body.expires_in',
        'categorie',
        'body.multiple',
      ]) {
        assert.ok(joined.includes(needle), `${needle} in ${joined}`);
      }
      for (const expires of [0, 604801, -5, '60']) {
        assertWireError(
          await call(server, 'POST', '/connect_sessions', { key, body: { ...valid, expires_in: expires } }),
          400,
          `expires_in ${expires}`,
        );
      }
      assert.equal(
        (await call(server, 'POST', '/connect_sessions', { key, body: { ...valid, expires_in: 604800 } }))
          .status,
        201,
      );
      assertWireError(await call(server, 'POST', '/connect_sessions', { key, body: [] }), 400, 'array body');
      assertWireError(
        await call(server, 'POST', '/connect_sessions/authenticate', { key, body: {} }),
        400,
        'no token',
      );
    });

    test('malformed JSON, wrong content type, empty and oversized bodies', async () => {
      assertWireError(
        await call(server, 'POST', '/connect_sessions', { key, body: '{"origin_owner_id": ' }),
        400,
        'malformed',
      );
      assertWireError(
        await call(server, 'POST', '/connect_sessions', {
          key,
          body: 'a=b',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
        'form',
      );
      assertWireError(
        await call(server, 'POST', '/connect_sessions', {
          key,
          body: 'hello',
          headers: { 'content-type': 'text/plain' },
        }),
        415,
        'text',
      );
      const empty = await fetch(`${server.url}/connect_sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });
      assertWireError({ status: empty.status, body: await empty.json() }, 400, 'empty json');
      const none = await fetch(`${server.url}/connect_sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
      });
      assertWireError({ status: none.status, body: await none.json() }, 400, 'no body');
      const big = { ...valid, label: 'x'.repeat(200), metadata: { blob: 'y'.repeat(4000) } };
      assertWireError(await call(server, 'POST', '/connect_sessions', { key, body: big }), 413, 'too large');
    });

    test('unknown route is 404, wrong method is 405 with Allow', async () => {
      assertWireError(await call(server, 'GET', '/nope', { key }), 404, 'unknown route');
      const put = await call(server, 'PUT', '/connect_sessions', { key, body: valid });
      assertWireError(put, 405, 'PUT');
      assert.equal(put.headers.get('allow'), 'POST');
      const get = await call(server, 'GET', '/connect_sessions/12', { key });
      assertWireError(get, 405, 'GET by id');
      assert.equal(get.headers.get('allow'), 'DELETE');
    });

    test('API key: missing, malformed, unknown and revoked keys get 401; every accepted form works', async () => {
      const post = (headers: Record<string, string>) =>
        call(server, 'POST', '/connect_sessions', { body: valid, headers });
      assertWireError(await post({}), 401, 'missing');
      assertWireError(await post({ authorization: 'Basic' }), 401, 'empty basic');
      assertWireError(await post({ authorization: 'Basic !!!' }), 401, 'garbage basic');
      assertWireError(await post({ authorization: `Token ${key}` }), 401, 'unknown scheme');
      assertWireError(await post({ authorization: 'Bearer pbk_unknown' }), 401, 'unknown key');
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      assert.equal((await post({ authorization: `Basic ${b64(`${key}:`)}` })).status, 201, 'Basic key:');
      assert.equal(
        (await post({ authorization: `Basic ${b64(key)}` })).status,
        201,
        'Basic key without colon',
      );
      assert.equal((await post({ authorization: `Bearer ${key}` })).status, 201, 'Bearer');
      assert.equal(
        (await post({ authorization: `bearer ${key}` })).status,
        201,
        'scheme is case-insensitive',
      );

      const project = await server.newProject('to revoke');
      assert.equal(
        (await call(server, 'POST', '/connect_sessions', { key: project.api_key, body: valid })).status,
        201,
      );
      const keyRow = await server.database.db
        .selectFrom('api_keys')
        .select('id')
        .where('project_id', '=', project.project_id)
        .executeTakeFirstOrThrow();
      await revokeApiKey(server.database.db, keyRow.id);
      assertWireError(
        await call(server, 'POST', '/connect_sessions', { key: project.api_key, body: valid }),
        401,
        'revoked',
      );
    });
  });

  describe(`rate limiting per API key (${backend})`, () => {
    const stores = process.env.REDIS_URL ? ['memory', 'redis'] : ['memory'];
    for (const store of stores) {
      test(`the ${store} store answers 429 with Retry-After, per key`, async () => {
        const env: Record<string, string> = { PLUGBOARD_RATE_LIMIT_PER_MINUTE: '3' };
        if (store === 'redis') env.REDIS_URL = process.env.REDIS_URL!;
        const server = await startTestServer(backend, env);
        try {
          const a = (await server.newProject()).api_key;
          const b = (await server.newProject()).api_key;
          const send = (key: string) => call(server, 'POST', '/connect_sessions', { key, body: valid });
          for (let i = 0; i < 3; i++) assert.equal((await send(a)).status, 201);
          const limited = await send(a);
          assertWireError(limited, 429, '429');
          const retryAfter = Number(limited.headers.get('retry-after'));
          assert.ok(
            Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60,
            `retry-after ${retryAfter}`,
          );
          assert.equal((await send(b)).status, 201, 'another key has its own budget');
          assert.equal((await call(server, 'GET', '/health/live')).status, 200, 'health is never limited');
        } finally {
          await server.close();
        }
      });
    }
  });
}
