import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CACHE_TTL_MS } from '../src/cache/data-caches.ts';
import { backends } from './support/backends.ts';
import { createSession, hubCall } from './support/connect.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/**
 * Hub reads (settings, connectors, a connector's form) answered from the process's cache are not
 * counted against the per-minute limit; the ones computed from the database are (src/cache/hub-reads.ts).
 */
for (const backend of backends()) {
  for (const cached of [true, false]) {
    describe(`hub reads and the rate limit, caches ${cached ? 'on' : 'off'} (${backend})`, () => {
      let server: TestServer;
      let token: string;
      before(async () => {
        server = await startTestServer(
          backend,
          { PLUGBOARD_RATE_LIMIT_PER_MINUTE: '3' },
          cached ? { caches: CACHE_TTL_MS } : {},
        );
        token = (await createSession(server, (await server.newProject()).api_key)).token;
      });
      after(() => server.close());

      test(cached ? 'repeated questions are free, new ones count' : 'every read counts', async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++)
          statuses.push((await hubCall(server, token, 'GET', '/hub/settings')).status);
        // Cached: one computed answer, then four from memory. Uncached: three within the limit of 3.
        assert.deepEqual(statuses, cached ? [200, 200, 200, 200, 200] : [200, 200, 200, 429, 429]);
        if (!cached) return;

        // Two new questions are computed (2 and 3 of 3); the third new one is over the limit.
        assert.equal((await hubCall(server, token, 'GET', '/hub/connectors')).status, 200);
        const fr = await hubCall(server, token, 'GET', '/hub/connectors?lang=fr');
        assert.equal(fr.status, 200);
        assert.equal(fr.headers.get('x-ratelimit-remaining'), '0', 'a computed answer reports the budget');
        const limited = await hubCall(server, token, 'GET', '/hub/connectors?lang=de');
        assert.equal(limited.status, 429);
        assert.equal(limited.body.statusCode, 429);
        // What is cached is still answered.
        assert.equal((await hubCall(server, token, 'GET', '/hub/connectors?lang=fr')).status, 200);
        assert.equal((await hubCall(server, token, 'GET', '/hub/settings')).status, 200);
      });
    });
  }
}
