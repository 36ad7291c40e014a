import assert from 'node:assert/strict';
import dns, { type LookupAddress } from 'node:dns';
import { describe, it, mock } from 'node:test';
import {
  type AddressPolicy,
  BlockedAddressError,
  checkAddress,
  checkUrl,
  guardedLookup,
  InvalidUrlError,
  webhookPolicy,
} from '../src/outbound/address-policy.ts';

// Address and URL checks for webhook targets. Nothing here opens a connection: DNS is mocked wherever a
// name would otherwise be resolved (apart from 'localhost'). Sending is covered by webhook-sender.test.ts.

const NONE: AddressPolicy = webhookPolicy([]);
const LOOPBACK: AddressPolicy = webhookPolicy(['loopback']);

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
      checkAddress(ip, webhookPolicy([range]));
      // Allowing some other range must not open this one.
      const other = range === 'private' ? 'loopback' : 'private';
      assert.throws(() => checkAddress(ip, webhookPolicy([other])), BlockedAddressError);
    });
  }

  it('judges IPv4-mapped IPv6 by the IPv4 address it reaches', () => {
    assert.throws(() => checkAddress('::ffff:10.0.0.1', webhookPolicy(['loopback'])), /private range/);
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
    await assert.rejects(checkUrl('ftp://example.com/hook', NONE), InvalidUrlError);
    await assert.rejects(checkUrl('file:///etc/passwd', NONE), InvalidUrlError);
    await assert.rejects(checkUrl('not a url', NONE), InvalidUrlError);
    await assert.rejects(checkUrl('https://user:secret@example.com/hook', NONE), (err: unknown) => {
      assert.ok(err instanceof InvalidUrlError);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
    await assert.rejects(checkUrl('https://user@example.com/hook', NONE), InvalidUrlError);
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
      await checkUrl('https://hooks.example.com/x', webhookPolicy(['private']));
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
