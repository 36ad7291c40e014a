import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type AddressPolicy, webhookPolicy } from '../src/outbound/address-policy.ts';
import { sendWebhook } from '../src/webhooks/sender.ts';

// Every server here listens on 127.0.0.1 and nothing is ever sent anywhere else: blocked cases must be
// refused before a connection is attempted, and that is exactly what they assert (the server saw nothing).
// The address and URL checks themselves are covered by webhook-url-guard.test.ts.

const NONE: AddressPolicy = webhookPolicy([]);
const LOOPBACK: AddressPolicy = webhookPolicy(['loopback']);

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface LocalServer {
  origin: string;
  port: number;
  requests: Received[];
  connections: number;
  close(): Promise<void>;
}

async function startServer(
  respond: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void,
): Promise<LocalServer> {
  const requests: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      // Clients hang up mid-response on purpose in several cases; that is not a test failure.
      res.on('error', () => {});
      respond(req, res, body);
    });
  });
  const state = { connections: 0 };
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('sendWebhook', () => {
  let ok: LocalServer;
  let failing: LocalServer;
  let redirectTarget: LocalServer;
  let redirecting: LocalServer;
  let slow: LocalServer;
  let stalling: LocalServer;
  let huge: LocalServer;
  const opts = { timeoutMs: 5_000, policy: LOOPBACK };

  before(async () => {
    ok = await startServer((_req, res) => {
      res.writeHead(202, { 'content-type': 'text/plain; charset=utf-8' }).end('accepted ✓');
    });
    failing = await startServer((_req, res) => res.writeHead(500).end('boom'));
    redirectTarget = await startServer((_req, res) => res.writeHead(200).end());
    redirecting = await startServer((_req, res) =>
      res.writeHead(302, { location: `${redirectTarget.origin}/target` }).end('moved'),
    );
    slow = await startServer((_req, res) => {
      const timer = setTimeout(() => res.writeHead(200).end('too late'), 10_000);
      res.on('close', () => clearTimeout(timer));
    });
    stalling = await startServer((_req, res) => {
      // Headers and part of the body, then nothing: the deadline must cover the body too.
      res.writeHead(200);
      res.write('partial');
    });
    huge = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(Buffer.alloc(5 * 1024 * 1024, 'a'));
    });
  });
  after(async () => {
    await Promise.all(
      [ok, failing, redirectTarget, redirecting, slow, stalling, huge].map((s) => s?.close()),
    );
  });

  it('POSTs the exact body and headers and reports a 2xx as ok', async () => {
    const body = JSON.stringify({ event: 'account.created', data: { id: 'acc_1', name: 'Zoë' } });
    const result = await sendWebhook(`${ok.origin}/hooks/in?x=1`, body, { 'X-Custom': 'abc 123' }, opts);

    assert.equal(result.ok, true);
    assert.equal(result.statusCode, 202);
    assert.equal(result.error, null);
    assert.equal(result.responseBody, 'accepted ✓');
    assert.ok(result.latencyMs >= 0);

    assert.equal(ok.requests.length, 1);
    const [received] = ok.requests;
    assert.equal(received!.method, 'POST');
    assert.equal(received!.url, '/hooks/in?x=1');
    assert.ok(received!.body.equals(Buffer.from(body, 'utf8')));
    assert.equal(received!.headers['x-custom'], 'abc 123');
    assert.equal(received!.headers['content-type'], 'application/json');
    assert.equal(received!.headers['user-agent'], 'Plugboard-Webhooks/1.0');
    assert.equal(received!.headers['content-length'], String(Buffer.byteLength(body)));
  });

  it('reports a 500 as a failure with its status', async () => {
    const result = await sendWebhook(failing.origin, '{}', {}, opts);
    assert.equal(result.ok, false);
    assert.equal(result.statusCode, 500);
    assert.equal(result.error, 'HTTP 500');
    assert.equal(result.responseBody, 'boom');
  });

  it('does not follow redirects', async () => {
    const result = await sendWebhook(redirecting.origin, '{}', {}, opts);
    assert.equal(result.ok, false);
    assert.equal(result.statusCode, 302);
    assert.equal(result.error, 'redirect (HTTP 302) not followed');
    assert.equal(redirecting.requests.length, 1);
    assert.equal(redirectTarget.connections, 0);
  });

  it('gives up on a server that does not answer in time', async () => {
    const result = await sendWebhook(slow.origin, '{}', {}, { ...opts, timeoutMs: 200 });
    assert.equal(result.ok, false);
    assert.equal(result.statusCode, null);
    assert.equal(result.error, 'timed out after 200 ms');
    assert.equal(slow.requests.length, 1);
  });

  it('applies the deadline to the response body as well', async () => {
    const result = await sendWebhook(stalling.origin, '{}', {}, { ...opts, timeoutMs: 300 });
    assert.equal(result.ok, false);
    assert.equal(result.statusCode, 200);
    assert.equal(result.error, 'timed out after 300 ms');
    assert.equal(result.responseBody, 'partial');
  });

  it('reads at most maxResponseBytes of a huge response and hangs up', async () => {
    const result = await sendWebhook(huge.origin, '{}', {}, opts);
    assert.equal(result.ok, true);
    assert.equal(result.statusCode, 200);
    assert.ok(result.responseBody.length > 0);
    assert.ok(result.responseBody.length <= 4096, `got ${result.responseBody.length} chars`);

    const small = await sendWebhook(huge.origin, '{}', {}, { ...opts, maxResponseBytes: 10 });
    assert.equal(small.responseBody, 'aaaaaaaaaa');
  });

  it('reports a refused connection', async () => {
    const gone = await startServer(() => {});
    const url = gone.origin;
    await gone.close();
    const result = await sendWebhook(url, '{}', {}, opts);
    assert.equal(result.ok, false);
    assert.equal(result.statusCode, null);
    assert.equal(result.error, 'connection refused');
  });

  it('refuses a blocked IP literal before connecting', async () => {
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]']) {
      const before = ok.connections;
      const result = await sendWebhook(`http://${host}:${ok.port}/`, '{}', {}, { ...opts, policy: NONE });
      assert.equal(result.ok, false);
      assert.equal(result.statusCode, null);
      assert.match(result.error!, /is in the loopback range, which is blocked/);
      assert.match(result.error!, /PLUGBOARD_WEBHOOK_ALLOWED_RANGES=loopback/);
      assert.equal(ok.connections, before);
    }
  });

  it('refuses a hostname that resolves to a blocked address at connect time', async () => {
    const target = await startServer((_req, res) => res.end());
    try {
      const result = await sendWebhook(
        `http://localhost:${target.port}/`,
        '{}',
        {},
        { ...opts, policy: NONE },
      );
      assert.equal(result.ok, false);
      assert.equal(result.statusCode, null);
      assert.match(result.error!, /localhost \(127\.0\.0\.1\) is in the loopback range/);
      assert.equal(target.connections, 0);
    } finally {
      await target.close();
    }
  });

  it('returns failures for bad URLs instead of throwing', async () => {
    const ftp = await sendWebhook('ftp://127.0.0.1/', '{}', {}, opts);
    assert.equal(ftp.ok, false);
    assert.match(ftp.error!, /http: or https:/);
    const creds = await sendWebhook(`http://u:p@127.0.0.1:${ok.port}/`, '{}', {}, opts);
    assert.equal(creds.ok, false);
    assert.match(creds.error!, /username or password/);
  });
});

describe('sendWebhook with keep-alive agents', () => {
  it('reuses one connection for consecutive sends, and still refuses blocked addresses', async () => {
    const server = await startServer((_req, res) => res.writeHead(204).end());
    const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
    try {
      for (let i = 0; i < 3; i++) {
        const result = await sendWebhook(
          `${server.origin}/hook`,
          '{}',
          {},
          { timeoutMs: 5_000, policy: LOOPBACK, agents },
        );
        assert.equal(result.ok, true, result.error ?? '');
      }
      assert.equal(server.requests.length, 3);
      assert.equal(server.connections, 1, 'the three sends shared one connection');

      // A pooled connection to an allowed address does not open the door for a blocked one.
      const blocked = await sendWebhook(
        `${server.origin}/hook`,
        '{}',
        {},
        { timeoutMs: 5_000, policy: NONE, agents },
      );
      assert.equal(blocked.ok, false);
      assert.match(blocked.error ?? '', /loopback/);
      assert.equal(server.requests.length, 3);
    } finally {
      agents.http.destroy();
      agents.https.destroy();
      await server.close();
    }
  });
});
