import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSession } from './support/connect.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

/** CORS on /hub/* (src/http/hub-cors.ts): what a browser on the customer's page gets to read. */
describe('CORS on /hub/* with an allow-list', () => {
  const allowed = 'https://app.example.test';
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startTestServer('pglite', {
      PLUGBOARD_HUB_ALLOWED_ORIGINS: `${allowed}, https://other.example.test/`,
      // Preflights are answered before the rate limit: a low limit must not refuse them (the three hub reads below stay within it).
      PLUGBOARD_RATE_LIMIT_PER_MINUTE: '3',
    });
    token = (await createSession(server, (await server.newProject()).api_key)).token;
  });
  after(() => server.close());

  const preflight = (origin: string, path = '/hub/accounts') =>
    call(server, 'OPTIONS', path, {
      headers: {
        origin,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'content-type,x-hub-session-token,x-hub-version',
      },
    });
  const settings = (headers: Record<string, string>) =>
    call(server, 'GET', '/hub/settings', { headers: { 'x-hub-session-token': token, ...headers } });

  test('a preflight from an allowed origin: 204 with the methods and headers the hub uses', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await preflight(allowed);
      assert.equal(res.status, 204, `preflight ${i + 1} (over the rate limit of 3 if it counted)`);
      assert.equal(res.headers.get('access-control-allow-origin'), allowed);
      assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST, PATCH, DELETE');
      assert.equal(
        res.headers.get('access-control-allow-headers'),
        'content-type, x-hub-session-token, x-hub-version',
      );
      assert.equal(res.headers.get('access-control-max-age'), '600');
      assert.equal(res.headers.get('content-length'), '0');
      assert.equal(res.headers.get('vary'), 'Origin');
    }
    const second = await preflight('https://other.example.test', '/hub/connectors/anything');
    assert.equal(second.status, 204, 'any /hub/* path, the trailing slash of the setting ignored');
    assert.equal(second.headers.get('access-control-allow-origin'), 'https://other.example.test');
  });

  test('a preflight from another origin gets no Access-Control-Allow-Origin', async () => {
    const res = await preflight('https://evil.example.test');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  test('an OPTIONS that is not a preflight is a 400 in the wire shape', async () => {
    const res = await call(server, 'OPTIONS', '/hub/settings', { headers: { origin: allowed } });
    assert.equal(res.status, 400);
    assert.equal(res.body.statusCode, 400);
    assert.match(res.body.message, /Access-Control-Request-Method/);
  });

  test('answers carry the origin only when it is allowed, and always Vary: Origin', async () => {
    const ok = await settings({ origin: allowed });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), allowed);
    assert.equal(ok.headers.get('vary'), 'Origin');

    const foreign = await settings({ origin: 'https://evil.example.test' });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    assert.equal(foreign.headers.get('vary'), 'Origin');

    const sameOrigin = await settings({});
    assert.equal(sameOrigin.status, 200);
    assert.equal(sameOrigin.headers.get('access-control-allow-origin'), null);
    assert.equal(sameOrigin.headers.get('vary'), 'Origin');
  });

  test('errors are readable by an allowed page', async () => {
    const res = await call(server, 'GET', '/hub/settings', {
      headers: { origin: allowed, 'x-hub-session-token': 'pbcs_not-a-session' },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), allowed);
  });

  test('routes outside /hub/* send no CORS headers', async () => {
    const res = await call(server, 'GET', '/health/live', { headers: { origin: allowed } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});

describe('CORS on /hub/* with any origin allowed (the default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite');
  });
  after(() => server.close());

  test('the calling origin is echoed, on preflights and answers', async () => {
    const origin = 'https://anywhere.example.test';
    const pre = await call(server, 'OPTIONS', '/hub/settings', {
      headers: { origin, 'access-control-request-method': 'GET' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), origin);
    const token = (await createSession(server, (await server.newProject()).api_key)).token;
    const res = await call(server, 'GET', '/hub/settings', {
      headers: { origin, 'x-hub-session-token': token },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
  });
});
