import assert from 'node:assert/strict';
import dns, { type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import { sendWebhook } from '../src/webhooks/sender.ts';
import {
  type AddressPolicy,
  BlockedAddressError,
  checkAddress,
  checkUrl,
  guardedLookup,
  InvalidWebhookUrlError,
} from '../src/webhooks/url-guard.ts';

// Every server here listens on 127.0.0.1 and nothing is ever sent anywhere else: blocked cases must be
// refused before a connection is attempted, and that is exactly what they assert (the server saw nothing).

const NONE: AddressPolicy = { allowedRanges: [] };
const LOOPBACK: AddressPolicy = { allowedRanges: ['loopback'] };

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

describe('checkAddress', () => {
  const blockedByDefault: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['192.168.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['0.0.0.0', 'unspecified'],
  ];

  for (const [ip, range] of blockedByDefault) {
    it(`blocks ${ip} by default and allows it with '${range}'`, () => {
      assert.throws(
        () => checkAddress(ip, NONE),
        (err: unknown) => {
          assert.ok(err instanceof BlockedAddressError);
          assert.equal(err.range, range);
          assert.match(err.message, new RegExp(`PLUGBOARD_WEBHOOK_ALLOWED_RANGES=${range}\\b`));
          return true;
        },
      );
      checkAddress(ip, { allowedRanges: [range] });
      // Allowing some other range must not open this one.
      const other = range === 'private' ? 'loopback' : 'private';
      assert.throws(() => checkAddress(ip, { allowedRanges: [other] }), BlockedAddressError);
    });
  }

  it('judges IPv4-mapped IPv6 by the IPv4 address it reaches', () => {
    assert.throws(() => checkAddress('::ffff:10.0.0.1', { allowedRanges: ['loopback'] }), /private range/);
    checkAddress('::ffff:8.8.8.8', NONE);
  });

  it('allows public unicast without any allowed ranges', () => {
    for (const ip of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '2606:4700:4700::1111',
      '2001:4860:4860::8888',
    ]) {
      checkAddress(ip, NONE);
    }
  });

  it('blocks ranges that can never be allowed with a message that does not suggest the setting', () => {
    assert.throws(
      () => checkAddress('224.0.0.1', NONE),
      (err: unknown) => {
        assert.ok(err instanceof BlockedAddressError);
        assert.equal(err.range, 'multicast');
        assert.doesNotMatch(err.message, /PLUGBOARD_WEBHOOK_ALLOWED_RANGES/);
        return true;
      },
    );
  });

  it('throws for unparseable addresses', () => {
    for (const ip of ['', 'not-an-ip', '999.1.1.1', 'localhost']) {
      assert.throws(() => checkAddress(ip, LOOPBACK), BlockedAddressError, ip);
    }
  });
});

describe('checkUrl', () => {
  it('rejects non-http schemes, credentials and garbage before any lookup', async () => {
    await assert.rejects(checkUrl('ftp://example.com/hook', NONE), InvalidWebhookUrlError);
    await assert.rejects(checkUrl('file:///etc/passwd', NONE), InvalidWebhookUrlError);
    await assert.rejects(checkUrl('not a url', NONE), InvalidWebhookUrlError);
    await assert.rejects(checkUrl('https://user:secret@example.com/hook', NONE), (err: unknown) => {
      assert.ok(err instanceof InvalidWebhookUrlError);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
    await assert.rejects(checkUrl('https://user@example.com/hook', NONE), InvalidWebhookUrlError);
  });

  for (const url of [
    'http://127.0.0.1/hook',
    'http://localhost:8080/hook',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
  ]) {
    it(`blocks ${url} by default and accepts it with loopback allowed`, async () => {
      await assert.rejects(checkUrl(url, NONE), (err: unknown) => {
        assert.ok(err instanceof BlockedAddressError);
        assert.equal(err.range, 'loopback');
        assert.match(err.message, /PLUGBOARD_WEBHOOK_ALLOWED_RANGES=loopback/);
        return true;
      });
      const parsed = await checkUrl(url, LOOPBACK);
      assert.equal(parsed.href, new URL(url).href);
    });
  }

  it('accepts a public IP literal without resolving anything', async () => {
    const lookup = mock.method(dns.promises, 'lookup');
    try {
      assert.equal((await checkUrl('https://8.8.8.8/hook', NONE)).hostname, '8.8.8.8');
      assert.equal(lookup.mock.callCount(), 0);
    } finally {
      lookup.mock.restore();
    }
  });

  it('checks every resolved address of a hostname', async () => {
    const lookup = mock.method(dns.promises, 'lookup', async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ]);
    try {
      await assert.rejects(
        checkUrl('https://hooks.example.com/x', NONE),
        /hooks\.example\.com \(10\.0\.0\.7\)/,
      );
      await checkUrl('https://hooks.example.com/x', { allowedRanges: ['private'] });
    } finally {
      lookup.mock.restore();
    }
  });

  it('accepts a hostname that cannot be resolved (offline), leaving the check to send time', async () => {
    for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
      const lookup = mock.method(dns.promises, 'lookup', async () => {
        throw Object.assign(new Error(`getaddrinfo ${code} hooks.example.com`), { code });
      });
      try {
        assert.equal((await checkUrl('https://hooks.example.com/x', NONE)).hostname, 'hooks.example.com');
      } finally {
        lookup.mock.restore();
      }
    }
  });
});

describe('guardedLookup', () => {
  const run = (policy: AddressPolicy, hostname: string, options: dns.LookupOptions) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>(
      (resolve) =>
        guardedLookup(policy)(hostname, options, (err, address, family) => resolve({ err, address, family })),
    );

  it('answers in the shape the caller asked for', async () => {
    const single = await run(LOOPBACK, 'localhost', { family: 4 });
    assert.equal(single.err, null);
    assert.equal(single.address, '127.0.0.1');
    assert.equal(single.family, 4);

    const all = await run(LOOPBACK, 'localhost', { all: true, family: 4 });
    assert.equal(all.err, null);
    assert.deepEqual(all.address, [{ address: '127.0.0.1', family: 4 }]);
  });

  it('refuses a name if any of its addresses is blocked', async () => {
    const lookup = mock.method(
      dns,
      'lookup',
      (_host: string, _opts: unknown, cb: (...args: unknown[]) => void) =>
        cb(null, [
          { address: '127.0.0.1', family: 4 },
          { address: '169.254.169.254', family: 4 },
        ]),
    );
    try {
      const result = await run(LOOPBACK, 'rebind.example.com', {});
      assert.ok(result.err instanceof BlockedAddressError);
      assert.match(
        result.err.message,
        /rebind\.example\.com \(169\.254\.169\.254\) is in the linkLocal range/,
      );
    } finally {
      lookup.mock.restore();
    }
  });

  it('passes resolution errors through', async () => {
    const lookup = mock.method(
      dns,
      'lookup',
      (_host: string, _opts: unknown, cb: (...args: unknown[]) => void) =>
        cb(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' })),
    );
    try {
      const result = await run(NONE, 'nowhere.example', { all: true });
      assert.equal(result.err?.code, 'ENOTFOUND');
    } finally {
      lookup.mock.restore();
    }
  });
});

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
