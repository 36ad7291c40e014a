import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { call, startTestServer } from './support/server.ts';

/** /health/ready really asks the database: with the database gone it says 503, liveness stays 200. */
for (const backend of backends()) {
  describe(`readiness follows the database (${backend})`, () => {
    test('ready is 200 with the database and 503 in the wire shape without it', async () => {
      const server = await startTestServer(backend);
      try {
        assert.deepEqual((await call(server, 'GET', '/health/ready')).body, { status: 'ok' });
        await server.database.db.destroy();
        const ready = await call(server, 'GET', '/health/ready');
        assert.equal(ready.status, 503);
        assert.equal(ready.body.statusCode, 503);
        assert.equal(typeof ready.body.message, 'string');
        assert.ok(!Number.isNaN(Date.parse(ready.body.timestamp)));
        assert.doesNotMatch(JSON.stringify(ready.body), /postgres:\/\/|ECONNREFUSED|\.ts:\d+/);
        assert.deepEqual((await call(server, 'GET', '/health/live')).body, { status: 'ok' });
      } finally {
        await server.app.close();
        await server.database.close().catch(() => {});
      }
    });
  });
}
