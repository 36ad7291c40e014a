import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import {
  connectAttio,
  createSession,
  enableAttio,
  hubCall,
  startAcceptingProvider,
} from './support/connect.ts';
import type { FakeProvider } from './support/fake-provider.ts';
import { type RawRequest, requestBytes, sendRaw } from './support/raw-http.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Strings that must be stored and returned byte for byte: markup, SQL, emoji, RTL, templates. */
const ROUND_TRIP = [
  '<script>alert("x")</script>',
  `Robert'); DROP TABLE connect_sessions;--`,
  `" OR 1=1 -- \\' \\"`,
  '👩🏽‍💻 café ﬁ 𝔘',
  'مرحبا بالعالم \u202eevil\u202c',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: template syntax is the hostile input here.
  '{{7*7}} ${process.env} %s %n',
  'line\nbreak\ttab\r\n',
  'zero\u200bwidth\ufeffbom',
];

/** Text fields of ConnectSessionCreate with their length limits (UTF-16 code units). */
const TEXT_FIELDS: Array<[string, number]> = [
  ['origin_owner_id', 255],
  ['origin_owner_name', 255],
  ['origin_username', 255],
  ['provider_version', 50],
  ['label', 255],
];

for (const backend of backends()) {
  describe(`hostile input in every text field (${backend})`, () => {
    let server: TestServer;
    let key: string;
    before(async () => {
      server = await startTestServer(backend);
      key = (await server.newProject()).api_key;
    });
    after(() => server.close());

    const base = { origin_owner_id: 'cust', origin_owner_name: 'Cust' };
    const create = (body: unknown) => call(server, 'POST', '/connect_sessions', { key, body });
    const rowCount = async () =>
      Number(
        (
          await server.database.db
            .selectFrom('connect_sessions')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    test('markup, SQL, emoji and RTL text round-trip unchanged in every field', async () => {
      for (const value of ROUND_TRIP) {
        const res = await create({
          origin_owner_id: value,
          origin_owner_name: value,
          origin_username: value,
          provider_version: value.slice(0, 50),
          label: value,
          metadata: { [value]: value, nested: [value, { [value]: value }] },
        });
        assert.equal(res.status, 201, `${JSON.stringify(value)}: ${JSON.stringify(res.body)}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        const authed = await call(server, 'POST', '/connect_sessions/authenticate', {
          key,
          body: { token: res.body.token },
        });
        assert.equal(authed.status, 201);
        for (const field of ['origin_owner_id', 'origin_owner_name', 'origin_username', 'label'])
          assert.equal(authed.body[field], value, `${field} ${JSON.stringify(value)}`);
        assert.deepEqual(authed.body.metadata, { [value]: value, nested: [value, { [value]: value }] });
        const row = await server.database.db
          .selectFrom('connect_sessions')
          .select(['provider_version', 'origin_owner_id'])
          .where('id', '=', res.body.id)
          .executeTakeFirstOrThrow();
        assert.equal(row.provider_version, value.slice(0, 50));
        assert.equal(row.origin_owner_id, value, 'stored exactly as sent');
      }
    });

    test('NUL, lone surrogates, over-long values and wrong types are 400 naming the field; nothing is written', async () => {
      const before = await rowCount();
      for (const [field, max] of TEXT_FIELDS) {
        const cases: Array<[string, unknown]> = [
          ['NUL', 'a\u0000b'],
          ['lone high surrogate', 'x\ud800'],
          ['lone low surrogate', '\udc00y'],
          ['too long', 'x'.repeat(max + 1)],
          ['number', 42],
          ['object', { a: 1 }],
          ['array', ['a']],
          ['boolean', true],
        ];
        for (const [what, value] of cases) {
          const res = await create({ ...base, [field]: value });
          assert.equal(res.status, 400, `${field} ${what}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.statusCode, 400);
          assert.match(res.body.timestamp, ISO);
          assert.ok(
            res.body.errors.some((e: string) => e.startsWith(`body.${field}:`)),
            `${field} ${what}: ${JSON.stringify(res.body.errors)}`,
          );
        }
        // The longest accepted value is accepted.
        assert.equal((await create({ ...base, [field]: 'y'.repeat(max) })).status, 201, `${field} at max`);
      }
      for (const field of ['origin_owner_id', 'origin_owner_name']) {
        for (const empty of ['', ' ', '\t\n']) {
          const res = await create({ ...base, [field]: empty });
          assert.equal(res.status, 400, `${field} ${JSON.stringify(empty)}`);
          assert.ok(res.body.errors.some((e: string) => e.startsWith(`body.${field}:`)));
        }
        const { [field]: _omitted, ...missing } = base as Record<string, string>;
        const res = await create(missing);
        assert.equal(res.status, 400, `${field} missing`);
        assert.ok(res.body.errors.some((e: string) => e.startsWith(`body.${field}:`)));
      }
      const accepted = TEXT_FIELDS.length; // one "at max" create per field
      assert.equal(await rowCount(), before + accepted, 'only the valid creates wrote rows');
    });

    test('metadata: hostile keys and values, non-objects, prototype pollution and deep nesting', async () => {
      for (const metadata of [
        { k: 'a\u0000' },
        { '\u0000': 1 },
        { k: ['ok', '\ud83d'] },
        { '\udfff': 1 },
        [1, 2],
        'text',
        42,
        true,
        JSON.parse(`${'{"a":'.repeat(12)}1${'}'.repeat(12)}`),
      ]) {
        const res = await create({ ...base, metadata });
        assert.equal(res.status, 400, JSON.stringify(metadata));
        assert.ok(
          res.body.errors.some((e: string) => e.startsWith('body.metadata')),
          JSON.stringify(res.body),
        );
      }
      for (const raw of [
        '{"origin_owner_id":"o","origin_owner_name":"O","metadata":{"__proto__":{"admin":true}}}',
        '{"origin_owner_id":"o","origin_owner_name":"O","metadata":{"constructor":{"prototype":{"admin":true}}}}',
      ]) {
        const res = await create(raw);
        assert.equal(res.status, 400, raw);
        assert.equal(res.body.statusCode, 400);
        assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted');
      }
      // Plain keys that merely look special are data.
      const ok = await create({ ...base, metadata: { proto: 1, $where: '1', 'a.b': { 'c[d]': null } } });
      assert.equal(ok.status, 201);
      assert.deepEqual(ok.body.metadata, { proto: 1, $where: '1', 'a.b': { 'c[d]': null } });
    });

    test('the body itself: null, arrays, strings and numbers are 400 in the wire shape', async () => {
      for (const raw of ['null', '[]', '[{}]', '"text"', '42', 'true', '{}']) {
        const res = await create(raw);
        assert.equal(res.status, 400, raw);
        assert.equal(res.body.statusCode, 400);
        assert.ok(Array.isArray(res.body.errors) && res.body.errors.length > 0, raw);
      }
    });

    test('categories and type: wrong shapes are 400 naming the field', async () => {
      for (const [body, field] of [
        [{ categories: 'hris' }, 'categories'],
        [{ categories: [1] }, 'categories'],
        [{ categories: [null] }, 'categories'],
        [{ categories: ['hris\u0000'] }, 'categories'],
        [{ categories: Array(40).fill('hris') }, 'categories'],
        [{ type: 1 }, 'type'],
        [{ type: ['test'] }, 'type'],
        [{ type: '' }, 'type'],
        [{ multiple: 'true' }, 'multiple'],
        [{ multiple: 1 }, 'multiple'],
        [{ expires_in: true }, 'expires_in'],
        [{ expires_in: '1800' }, 'expires_in'],
        [{ expires_in: 1e21 }, 'expires_in'],
        [{ integration_id: 123 }, 'integration_id'],
        [{ account_id: '' }, 'account_id'],
        [{ provider: '../etc/passwd' }, 'provider'],
        [{ provider: 'x'.repeat(101) }, 'provider'],
      ] as const) {
        const res = await create({ ...base, ...body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.ok(
          res.body.errors.some((e: string) => e.startsWith(`body.${field}`)),
          `${JSON.stringify(body)}: ${JSON.stringify(res.body.errors)}`,
        );
      }
    });
  });
}

/** Findings of test/fuzz-routes.test.ts: requests refused before any route ran, now in the wire shape. */
for (const backend of backends()) {
  describe(`requests refused before routing answer in the wire shape (${backend})`, () => {
    let server: TestServer;
    let key: string;
    before(async () => {
      server = await startTestServer(backend);
      key = (await server.newProject()).api_key;
    });
    after(() => server.close());

    const send = async (req: RawRequest) => {
      const res = await sendRaw(server.url, requestBytes(new URL(server.url).host, req));
      return { status: res.status, body: JSON.parse(res.body.toString('utf8')) };
    };
    const assertWireShape = (res: { status: number; body: Record<string, unknown> }, status: number) => {
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body.statusCode, status);
      assert.equal(typeof res.body.message, 'string');
      assert.match(String(res.body.timestamp), ISO);
    };
    const auth: [string, string] = ['authorization', 'Bearer pbk_unused'];

    test("malformed HTTP that Node's parser refuses: control bytes in a header, contradictory framing, a bad request line", async () => {
      const cases: RawRequest[] = [
        { method: 'GET', target: '/accounts', headers: [auth, ['cookie', 'a\u0000b']] },
        { method: 'GET', target: '/accounts', headers: [auth, ['x-x', 'a\u0001b']] },
        {
          method: 'POST',
          target: '/connect_sessions',
          headers: [auth, ['transfer-encoding', 'chunked']],
          body: Buffer.from('{}'),
        },
        {
          method: 'POST',
          target: '/connect_sessions',
          headers: [auth, ['transfer-encoding', 'chunked']],
          body: Buffer.from('zz\r\n{}\r\n0\r\n\r\n'),
          noContentLength: true,
        },
        { method: 'GET', target: '/accounts x', headers: [auth] },
      ];
      for (const req of cases) assertWireShape(await send(req), 400);
    });

    test('headers over the size limit are 431', async () => {
      assertWireShape(
        await send({ method: 'GET', target: '/accounts', headers: [['x-big', 'x'.repeat(20_000)]] }),
        431,
      );
      assertWireShape(
        await send({ method: 'GET', target: `/accounts?q=${'x'.repeat(20_000)}`, headers: [] }),
        431,
      );
    });

    test('a path that is not valid percent-encoding is 400, naming the URL', async () => {
      for (const path of [
        '/accounts/%E0%A4%A',
        '/accounts/%',
        '/hub/connection_attempts/%zz',
        '/x/%E0%A4%A',
      ]) {
        const res = await call(server, 'GET', path, { key });
        assertWireShape(res, 400);
        assert.deepEqual(res.body.errors, ['url: invalid percent-encoding'], path);
      }
    });

    test('a path parameter longer than the router takes is 414', async () => {
      for (const path of [
        `/accounts/${'a'.repeat(101)}`,
        `/webhook_endpoints/${'a'.repeat(5000)}/rotate_secret`,
      ]) {
        const res = await call(server, 'GET', path, { key });
        assertWireShape(res, 414);
        assert.deepEqual(res.body.errors, ['url: path parameter too long'], path);
      }
      assert.equal((await call(server, 'GET', `/accounts/${'a'.repeat(100)}`, { key })).status, 404);
    });

    test('OPTIONS on /hub/* without the preflight headers is 400; a real preflight still passes', async () => {
      const partial: Array<Record<string, string>> = [
        {},
        { origin: 'https://app.example' },
        { 'access-control-request-method': 'POST' },
      ];
      for (const headers of partial) {
        const res = await call(server, 'OPTIONS', '/hub/connection_attempts', { headers });
        assertWireShape(res, 400);
        assert.match(res.body.message, /Origin and Access-Control-Request-Method/);
      }
      const preflight = await call(server, 'OPTIONS', '/hub/connection_attempts', {
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
    });
  });
}

describe('GET /metrics compares tokens of any encoding without failing', () => {
  let server: TestServer;
  const token = 'metrics-token-0123';
  before(async () => {
    server = await startTestServer('pglite', { PLUGBOARD_METRICS_TOKEN: token });
  });
  after(() => server.close());

  test('a token of the same length in non-ASCII characters is 401, not 500', async () => {
    const host = new URL(server.url).host;
    for (const given of ['\xe9'.repeat(token.length), `${token.slice(0, -1)}\xff`, '\xff']) {
      const raw = await sendRaw(
        server.url,
        requestBytes(host, {
          method: 'GET',
          target: '/metrics',
          headers: [['authorization', `Bearer ${given}`]],
        }),
      );
      const body = JSON.parse(raw.body.toString('utf8'));
      assert.equal(raw.status, 401, JSON.stringify(body));
      assert.equal(body.statusCode, 401);
      assert.match(body.timestamp, ISO);
    }
    const ok = await call(server, 'GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
  });
});

for (const backend of backends()) {
  describe(`values that cannot go into an HTTP header are 400s, not provider outages (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    let key: string;
    let integrationId: string;
    before(async () => {
      server = await startTestServer(backend, LOOPBACK_PROVIDERS);
      provider = await startAcceptingProvider();
      key = (await server.newProject()).api_key;
      integrationId = await enableAttio(server, key, provider);
    });
    after(async () => {
      await server.close();
      await provider.close();
    });

    test('a credential with non-Latin-1 characters or a line break: 400 naming the field, the provider never called', async () => {
      const { token } = await createSession(server, key, { provider: 'attio' });
      const before = provider.requests.length;
      for (const secret of ['good-\u{1F511}-token', 'good-token\r\nx-injected: 1', 'good-\u0100']) {
        const res = await hubCall(server, token, 'POST', '/hub/accounts', {
          integration_id: integrationId,
          credentials: { access_token: secret },
        });
        assert.equal(res.status, 400, `${JSON.stringify(secret)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.statusCode, 400);
        assert.ok(
          res.body.errors.some((e: string) => e.startsWith('credentials.access_token:')),
          JSON.stringify(res.body),
        );
      }
      assert.equal(provider.requests.length, before, 'nothing was sent');
    });

    test('proxy headers: names that are not tokens and values that are not Latin-1 are 400 naming the header', async () => {
      const accountId = await connectAttio(server, key, integrationId);
      for (const headers of [{ 'x-a': '\u{1F511}' }, { 'x-a': 'a\r\nb' }, { 'x a': '1' }, { 'x:a': '1' }]) {
        const res = await call(server, 'POST', '/unified/proxy', {
          key,
          headers: { 'x-account-id': accountId },
          body: { path: '/people', headers },
        });
        assert.equal(res.status, 400, `${JSON.stringify(headers)}: ${JSON.stringify(res.body)}`);
        assert.ok(
          res.body.errors.some((e: string) => e.startsWith('body.headers')),
          JSON.stringify(res.body),
        );
      }
      const ok = await call(server, 'POST', '/unified/proxy', {
        key,
        headers: { 'x-account-id': accountId },
        body: { path: '/people', headers: { 'x-a': 'caf\u00e9' } },
      });
      assert.notEqual(ok.status, 400, JSON.stringify(ok.body));
    });
  });
}
