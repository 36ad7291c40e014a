import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { StackOne } from '@stackone/stackone-client-ts';
import { backends } from './support/backends.ts';
import { connectAttio, enableAttio } from './support/connect.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

const TOKEN = 'good-proxy-token-0123456789';
/** Past the proxy's 10 MiB cap. */
const HUGE = 11 * 1024 * 1024;

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Attio's API on 127.0.0.1: answers by path, records every request with its body. */
async function startProviderApi() {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const path = new URL(req.url!, 'http://x').pathname;
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorised"}');
      } else if (path === '/missing') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such object"}');
      } else if (path === '/broken') {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream exploded');
      } else if (path === '/huge') {
        // Announced: refused before a byte is passed on.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(HUGE) });
        res.end(Buffer.alloc(HUGE, 0x20));
      } else if (path === '/huge-chunked') {
        // Not announced: it already flows to the caller when it passes the cap.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        let sent = 0;
        const more = () => {
          while (sent < HUGE) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        res.on('error', () => {});
        more();
      } else if (path === '/moved') {
        res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' }).end();
      } else if (req.method === 'POST') {
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ created: JSON.parse(body) }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"data":[{"id":1}]}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const backend of backends()) {
  describe(`POST /unified/proxy (${backend})`, () => {
    let server: TestServer;
    let api: Awaited<ReturnType<typeof startProviderApi>>;
    let key: string;
    let accountId: string;

    before(async () => {
      api = await startProviderApi();
      server = await startTestServer(backend, LOOPBACK_PROVIDERS);
      key = (await server.newProject()).api_key;
      const integration = await enableAttio(server, key, {
        url: api.url,
        requests: [],
        close: async () => {},
      });
      accountId = await connectAttio(server, key, integration, {}, TOKEN);
    });
    after(async () => {
      await server.close();
      await api.close();
    });

    const proxy = (
      body: unknown,
      headers: Record<string, string> = { 'x-account-id': accountId },
      apiKey = key,
    ) => call(server, 'POST', '/unified/proxy', { key: apiKey, body, headers });

    test('calls the provider as the account and passes its 2xx answer on', async () => {
      const res = await proxy(
        {
          path: '/v2/objects?limit=1',
          method: 'get',
          headers: { 'X-Trace': 'abc', Authorization: 'Bearer stolen', Cookie: 'a=b' },
        },
        { 'x-account-id': accountId },
      );
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { data: [{ id: 1 }] });
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      const seen = api.seen.at(-1)!;
      assert.equal(seen.method, 'GET');
      assert.equal(seen.url, '/v2/objects?limit=1');
      assert.equal(
        seen.headers.authorization,
        `Bearer ${TOKEN}`,
        "the account's credentials, not the caller's",
      );
      assert.equal(seen.headers['x-trace'], 'abc');
      assert.equal(seen.headers.cookie, undefined);

      const created = await proxy({ path: '/v2/notes', method: 'POST', body: { title: 'Hi ✓' } });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body, { created: { title: 'Hi ✓' } });
      assert.equal(api.seen.at(-1)!.headers['content-type'], 'application/json');
    });

    test("the provider's errors come back in the wire shape with its answer", async () => {
      const missing = await proxy({ path: '/missing' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.statusCode, 404);
      assert.match(missing.body.message, /Attio answered HTTP 404/);
      assert.equal(missing.body.provider_response, '{"error":"no such object"}');

      const broken = await proxy({ path: '/broken' });
      assert.equal(broken.status, 502);
      assert.equal(broken.body.provider_response, 'upstream exploded');

      const before = api.seen.length;
      const moved = await proxy({ path: '/moved' });
      assert.equal(moved.status, 502);
      assert.match(moved.body.message, /redirect/);
      assert.equal(api.seen.length, before + 1, 'the redirect was not followed');
    });

    test('an answer over 10 MiB: refused when announced, cut off at the cap when streamed', async () => {
      const announced = await proxy({ path: '/huge' });
      assert.equal(announced.status, 502);
      assert.match(announced.body.message, /more than 10 MiB/);

      const res = await fetch(`${server.url}/unified/proxy`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
          'content-type': 'application/json',
          'x-account-id': accountId,
        },
        body: JSON.stringify({ path: '/huge-chunked' }),
      });
      assert.equal(res.status, 200, 'the status went out with the first bytes');
      let received = 0;
      await assert.rejects(async () => {
        for await (const chunk of res.body!) received += (chunk as Uint8Array).byteLength;
      }, 'the answer ends without completing');
      assert.ok(received <= 10 * 1024 * 1024, `at most the cap was passed on (got ${received} bytes)`);

      // The proxy still works afterwards (the provider's connection was released, not leaked).
      assert.equal((await proxy({ path: '/v2/objects' })).status, 200);
    });

    test('only the account API host can be reached, and input is never a template', async () => {
      const before = api.seen.length;
      for (const body of [
        { url: 'http://127.0.0.2:1/v2', path: '/x' },
        { url: 'https://example.com', path: '/x' },
        { path: '/{{access_token}}' },
        { method: 'TRACE', path: '/x' },
        { path: '/x', extra: true },
      ]) {
        const res = await proxy(body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.statusCode, 400);
      }
      assert.equal(api.seen.length, before, 'nothing was sent for refused requests');

      // A path that looks like another host stays a path on the account's host.
      const sneaky = await proxy({ path: '//evil.example/steal' });
      assert.equal(sneaky.status, 200);
      assert.equal(api.seen.at(-1)!.url, '//evil.example/steal');
      // Same origin with another base path is fine.
      const other = await proxy({ url: `${api.url}/v3`, path: '/people' });
      assert.equal(other.status, 200);
      assert.equal(api.seen.at(-1)!.url, '/v3/people');
    });

    test('another project, an unknown account or a missing header never reach the provider', async () => {
      const before = api.seen.length;
      const stranger = (await server.newProject('other')).api_key;
      assert.equal((await proxy({ path: '/x' }, { 'x-account-id': accountId }, stranger)).status, 404);
      assert.equal((await proxy({ path: '/x' }, { 'x-account-id': 'acc_unknown' })).status, 404);
      const noHeader = await proxy({ path: '/x' }, {});
      assert.equal(noHeader.status, 400);
      assert.match(noHeader.body.message, /x-account-id/);
      assert.equal((await call(server, 'POST', '/unified/proxy', { body: { path: '/x' } })).status, 401);
      assert.equal(api.seen.length, before);
      assert.ok(!server.logs().includes(TOKEN), 'the token is not logged');
    });

    test("StackOne's SDK proxyRequest works against it", async () => {
      const sdk = new StackOne({ serverURL: server.url, security: { username: key, password: '' } });
      const res = await sdk.proxy.proxyRequest({
        xAccountId: accountId,
        proxyRequestBody: { path: '/v2/objects', headers: { 'x-sdk': '1' } },
      });
      assert.equal(res.statusCode, 200);
      assert.match(res.contentType, /^application\/json/);
      assert.equal(api.seen.at(-1)!.url, '/v2/objects');
      assert.equal(api.seen.at(-1)!.headers['x-sdk'], '1');
    });
  });
}
