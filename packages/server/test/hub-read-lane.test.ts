import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CACHE_TTL_MS } from '../src/cache/data-caches.ts';
import { backends } from './support/backends.ts';
import { createSession } from './support/connect.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

const ALLOWED = 'https://app.example.test';

/**
 * Cached hub reads are answered before Fastify (src/http/hub-read-lane.ts) with the answer the route
 * gives: these tests count the requests that reach Fastify, and compare what the two send.
 */
for (const backend of backends()) {
  describe(`the hub read lane (${backend})`, () => {
    let server: TestServer;
    let key: string;
    /** Requests Fastify answered, by method and URL. */
    const reached: string[] = [];
    const reachedFastify = (path: string, method = 'GET') =>
      reached.filter((r) => r === `${method} ${path}`).length;

    before(async () => {
      server = await startTestServer(
        backend,
        { PLUGBOARD_HUB_ALLOWED_ORIGINS: ALLOWED },
        {
          caches: CACHE_TTL_MS,
          beforeListen: (app) =>
            // onSend: every answer Fastify sends passes it, refusals by earlier hooks included.
            app.addHook('onSend', (request, _reply, payload, done) => {
              reached.push(`${request.method} ${request.url}`);
              done(null, payload);
            }),
        },
      );
      key = (await server.newProject()).api_key;
      // One integration, so the connector list and a connector's form have something to answer.
      const config = await call(server, 'POST', '/auth_configs', { key, body: { connector_key: 'attio' } });
      assert.equal(config.status, 201, JSON.stringify(config.body));
    });
    after(() => server.close());

    const read = (token: string, path: string, headers: Record<string, string> = {}, method = 'GET') =>
      call(server, method, path, {
        headers: { 'x-hub-session-token': token, 'x-hub-version': '1', ...headers },
      });
    /**
     * The headers a client sees, but the date and the rate limit's: an answer computed by the route
     * counts against the limit and reports the budget, a cached one (from the lane or the route) does not.
     */
    const visible = (headers: Headers) =>
      Object.fromEntries(
        [...headers].filter(([name]) => name !== 'date' && !name.startsWith('x-ratelimit-')),
      );

    test('a repeated read is answered before Fastify, with the same status, body and headers', async () => {
      reached.length = 0;
      const { token } = await createSession(server, key);
      for (const path of ['/hub/settings', '/hub/connectors', '/hub/connectors?lang=fr']) {
        for (const origin of [undefined, ALLOWED, 'https://elsewhere.example.test']) {
          const headers: Record<string, string> = origin ? { origin } : {};
          const first = await read(token, path, headers);
          const second = await read(token, path, headers);
          assert.equal(first.status, 200, JSON.stringify(first.body));
          assert.equal(second.status, 200);
          assert.deepEqual(second.body, first.body);
          assert.deepEqual(visible(second.headers), visible(first.headers), `${path} from ${origin}`);
          assert.equal(
            second.headers.get('access-control-allow-origin'),
            origin === ALLOWED ? ALLOWED : null,
          );
        }
        // The first read of each URL was computed by the route; every other came from the lane.
        assert.equal(reachedFastify(path), 1, path);
      }
      const { integrations } = (await read(token, '/hub/connectors')).body;
      const form = `/hub/connectors/${integrations[0].integration_id}`;
      const computed = await read(token, form);
      assert.equal(computed.status, 200, JSON.stringify(computed.body));
      assert.deepEqual((await read(token, form)).body, computed.body);
      assert.equal(reachedFastify(form), 1);
    });

    test('what the lane cannot answer the same way goes to Fastify', async () => {
      reached.length = 0;
      const bound = await createSession(server, key, { allowed_origins: [ALLOWED] });
      assert.equal((await read(bound.token, '/hub/settings', { origin: ALLOWED })).status, 200);
      assert.equal((await read(bound.token, '/hub/settings', { origin: ALLOWED })).status, 200);
      assert.equal(reachedFastify('/hub/settings'), 1, 'the second read came from the lane');
      // A page the session is not bound to is refused by the route, although the answer is cached.
      const foreign = await read(bound.token, '/hub/settings', { origin: 'https://elsewhere.example.test' });
      assert.equal(foreign.status, 403);
      assert.equal(reachedFastify('/hub/settings'), 2);
      // HEAD, and a URL not asked yet, reach the route.
      assert.equal((await read(bound.token, '/hub/settings', {}, 'HEAD')).status, 200);
      assert.equal(reachedFastify('/hub/settings', 'HEAD'), 1);
      assert.equal((await read(bound.token, '/hub/settings?x=1')).status, 200);
      assert.equal(reachedFastify('/hub/settings?x=1'), 1);
      // A revoked session is refused at once: its cached answers are never sent again.
      assert.equal((await call(server, 'DELETE', `/connect_sessions/${bound.id}`, { key })).status, 204);
      const revoked = await read(bound.token, '/hub/settings', { origin: ALLOWED });
      assert.equal(revoked.status, 401);
      assert.equal(revoked.body.statusCode, 401);
      assert.equal(reachedFastify('/hub/settings'), 3);
    });

    test('lane answers are logged and counted like the route’s', async () => {
      const { token } = await createSession(server, key);
      const before = await settingsCount();
      const mark = server.logMark();
      assert.equal((await read(token, '/hub/settings')).status, 200);
      assert.equal((await read(token, '/hub/settings', { 'x-request-id': 'trace-42' })).status, 200);
      assert.equal((await read(token, '/hub/settings')).status, 200);
      assert.equal((await settingsCount()) - before, 3);
      const lines = server
        .logsSince(mark)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .filter((line) => line.url === '/hub/settings');
      assert.equal(lines.length, 3);
      for (const line of lines) {
        assert.equal(line.msg, 'request completed');
        assert.equal(line.level, 30);
        assert.equal(line.method, 'GET');
        assert.equal(line.statusCode, 200);
        assert.equal(line.remoteAddress, '127.0.0.1');
        assert.equal(typeof line.responseTime, 'number');
        assert.match(line.reqId, /^(req-[0-9a-z]+|trace-42)$/);
      }
      assert.equal(lines[1].reqId, 'trace-42', 'a proxy’s request id is kept');
      // Ids stay unique across the lane and Fastify.
      assert.notEqual(lines[0].reqId, lines[2].reqId);
    });

    /** http_requests_total for GET /hub/settings answered 200, from /metrics. */
    async function settingsCount(): Promise<number> {
      const res = await fetch(`${server.url}/metrics`);
      const text = await res.text();
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('plugboard_http_requests_total{') &&
            l.includes('route="/hub/settings"') &&
            l.includes('status="200"'),
        );
      return line ? Number(line.split(' ').at(-1)) : 0;
    }
  });
}
