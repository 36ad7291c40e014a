import fc from 'fast-check';

/**
 * Generators of hostile requests for test/fuzz-routes.test.ts. A generated request is symbolic: "the
 * real account id, with a character appended" rather than the id itself, because rows are made (and
 * deleted by the fuzzed requests themselves) while the run goes on; `materialize` in the test resolves
 * the symbols against the rows that exist at that moment.
 */

/** A value taken from the fixtures at send time, possibly mangled. */
export interface Real {
  real: 'id' | 'token' | 'key' | 'account' | 'integration' | 'finish_url' | 'state' | 'attempt';
  /** `latin1`: the same length in non-ASCII characters (equal-length comparisons must not throw). */
  mangle: 'none' | 'append' | 'truncate' | 'upper' | 'nul' | 'double' | 'latin1';
}
/** Text as it goes on the wire (already percent-encoded where it lands in a URL), or a real value. */
export type Piece = string | Real;

/** `valid` is what the route wants: the API key, or the hub session token on /hub/*. */
export type Credential =
  | 'valid'
  | 'key'
  | 'bearer'
  | 'hub'
  | 'both'
  | 'other_key'
  /** The route's valid credential, slightly wrong (see `nearMiss`). */
  | 'near_miss'
  | 'garbage'
  | 'none';

export type Body =
  | { kind: 'none' }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  /** The route's valid body with some fields replaced, others added (JSON text fragments). */
  | {
      kind: 'template';
      replace: Array<[number, string]>;
      add: Array<[string, string]>;
      invalidUtf8: boolean;
    };

export interface Spec {
  /**
   * A quarter of the requests are "deep": valid credentials, JSON content type, well-formed HTTP and a
   * body with at most one field changed, so they get past authentication and into the services.
   */
  deep: boolean;
  /** Index into the server's route list; past its end: a made-up path. */
  route: number;
  method: string | undefined;
  params: Piece[];
  wildcard: string;
  query: Array<[string, Piece]>;
  rawQuery: string | undefined;
  credential: Credential;
  garbageAuth: string;
  nearMiss: Exclude<Real['mangle'], 'none'>;
  headers: Array<[string, Piece]>;
  contentType: string | undefined;
  body: Body;
  /** Malformed HTTP framing, answered by Node's parser rather than by a route. */
  framing: 'none' | 'bad_header_byte' | 'te_and_cl' | 'bad_chunk' | 'huge_header' | 'space_in_target';
}

const weighted = <T>(...entries: Array<[number, fc.Arbitrary<T>]>) =>
  fc.oneof(...entries.map(([weight, arbitrary]) => ({ weight, arbitrary })));

/** UTF-8 percent-encoding that keeps lone surrogates as the three-byte sequences the JS string holds. */
export function percentEncode(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (/^[A-Za-z0-9_.~-]$/.test(ch)) out += ch;
    else if (code >= 0xd800 && code <= 0xdfff)
      out +=
        `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase();
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const MANGLES = ['append', 'truncate', 'upper', 'nul', 'double', 'latin1'] as const;
const mangle = weighted<Real['mangle']>([1, fc.constant('none' as const)], [1, fc.constantFrom(...MANGLES)]);
const real = (...kinds: Real['real'][]) =>
  fc.record({ real: fc.constantFrom(...kinds), mangle }) as fc.Arbitrary<Real>;

/** Control bytes in a header make Node's parser refuse the request; `framing` covers that on its own. */
const withoutControls = (s: string) =>
  [...s].filter((c) => c === '\t' || (c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)).join('');

const latin1High = fc.string({
  unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
});

/** Ids as they appear in a path segment. */
export const hostileId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '%00',
    'a%00b',
    '%ED%A0%80',
    '%ED%B0%80',
    'x%ED%A0%80y',
    '%C0%AF',
    '%C3%28',
    '%FF%FE',
    '%E0%A4%A',
    '%',
    '%zz',
    '%2e%2e',
    '..%2F..%2Fetc%2Fpasswd',
    '..%5C..%5Cwindows',
    '.',
    '..',
    '%2F',
    '0',
    '-1',
    '-0',
    '1e400',
    '99999999999999999999999',
    '9223372036854775808',
    '2147483648',
    'NaN',
    'Infinity',
    '0x10',
    '%207',
    '7%20',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    'prototype',
    'hasOwnProperty',
    '%3Cscript%3E',
    "'%20OR%201=1--",
    'attio.svg',
    'attio',
    'a.svg.svg',
  ),
  fc.uuid().map((u) => u),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid().map((u) => `${u}x`),
  fc.uuid().map((u) => u.replace(/-/g, '')),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.string({ unit: 'binary', maxLength: 30 }).map(percentEncode),
  fc.string({ unit: 'binary-ascii', maxLength: 30 }).map(percentEncode),
  fc.constantFrom(101, 256, 1000, 5000, 20_000).map((n) => 'a'.repeat(n)),
  latin1High.map((s) => `x${s}`),
);

const QUERY_KEYS = [
  'page',
  'page_size',
  'status',
  'provider',
  'providers',
  'origin_owner_id',
  'origin_owner_ids',
  'account_ids',
  'connector_key',
  'enabled',
  'include',
  'token',
  'redirect_uri',
  'connection_attempt_id',
  'state',
  'code',
  'error',
  'error_description',
  'lang',
  'theme',
  'iss',
  '__proto__',
  'constructor',
  'toString',
  'a[b]',
  'a[]',
  'status[]',
];

const hugeValue = fc.constantFrom(3000, 9000, 9000, 30_000).map((n) => 'v'.repeat(n));

const queryValue: fc.Arbitrary<Piece> = weighted<Piece>(
  [3, real('token', 'finish_url', 'state', 'account', 'integration', 'attempt', 'id')],
  [
    3,
    fc.constantFrom(
      '1',
      '0',
      '-1',
      '25',
      '1001',
      '1e400',
      '1.5',
      'true',
      'false',
      'active',
      'ACTIVE',
      'expired',
      'pending',
      'attio',
      'hubspot',
      'dark',
      'fr',
      'success',
      'error',
      'access_denied',
      '',
      '%',
      '%E0%A4%A',
      '%00',
      '%ED%A0%80',
      '%FF',
      'a%2Cb',
      'http%3A%2F%2F127.0.0.1%3A1%2F',
      'javascript%3Aalert(1)',
    ),
  ],
  [2, hostileId],
  [1, hugeValue],
  [2, fc.string({ unit: 'binary', maxLength: 40 }).map(percentEncode)],
);

const queryKey = weighted<string>(
  [6, fc.constantFrom(...QUERY_KEYS)],
  [1, fc.string({ unit: 'binary', maxLength: 12 }).map(percentEncode)],
  [1, fc.constantFrom('%', '%00', '%E0%A4%A', '', '=', '%ED%A0%80')],
);

const rawQuery = fc.constantFrom(
  '?',
  '?&&&',
  '?=',
  '?==',
  '?a',
  '?a=1&a',
  '?%',
  '?a=%E0%A4%A',
  '?#x',
  '??a=1',
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=UTF-8',
  'application/json;charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset="utf-8"',
  'APPLICATION/JSON',
  'application/json; boundary=x; charset=utf-8',
  'application/json;',
  'application/json, text/plain',
  'application/jsonx',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/octet-stream',
  '*/*',
  '',
  ';',
  'application/json; charset=\xff',
];

/** JSON text of one value, hostile more often than not. */
export const jsonFragment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'null',
    'true',
    'false',
    '0',
    '-0',
    '-1',
    '1e400',
    '-1e400',
    '1e-400',
    '1.5',
    '9007199254740993',
    `1${'0'.repeat(400)}`,
    '""',
    '" "',
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\ud800"',
    '"\\udfff"',
    '"x\\ud83d"',
    '"\\"\\\\"',
    '"<script>alert(1)</script>"',
    '"../../etc/passwd"',
    '"http://127.0.0.1:1/"',
    '"http://169.254.169.254/latest/meta-data"',
    '"http://[::1]/"',
    '"{{secret}}"',
    '"{{unknown}}"',
    '[]',
    '{}',
    '[null]',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"admin":true}}}',
    '{"a":1,"a":2}',
  ),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : 'null')),
  fc.constantFrom(255, 256, 2049, 10_001, 100_000, 700_000).map((n) => JSON.stringify('x'.repeat(n))),
  fc
    .record({ depth: fc.constantFrom(7, 8, 9, 63, 64, 65, 66, 200, 5000, 30_000), array: fc.boolean() })
    .map(({ depth, array }) => nested(depth, array)),
);

/** JSON text nested `depth` levels deep (arrays or objects). */
export function nested(depth: number, array: boolean): string {
  return array
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const FIELD_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'unknown_field',
  'id',
  'project_id',
  'admin',
  '',
];

const body: fc.Arbitrary<Body> = weighted<Body>(
  [2, fc.constant({ kind: 'none' as const })],
  [
    6,
    fc.record({
      kind: fc.constant('template' as const),
      // Often a single change, so that the rest of the body is valid and the request goes deep.
      replace: weighted<Array<[number, string]>>(
        [2, fc.constant([])],
        [4, fc.array(fc.tuple(fc.nat(20), jsonFragment), { minLength: 1, maxLength: 1 })],
        [1, fc.array(fc.tuple(fc.nat(20), jsonFragment), { maxLength: 3 })],
      ),
      add: weighted<Array<[string, string]>>(
        [4, fc.constant([])],
        [
          1,
          fc.array(
            fc.tuple(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 10 })), jsonFragment),
            { minLength: 1, maxLength: 2 },
          ),
        ],
      ),
      invalidUtf8: weighted<boolean>([5, fc.constant(false)], [1, fc.constant(true)]),
    }),
  ],
  [2, fc.record({ kind: fc.constant('text' as const), text: jsonFragment })],
  [
    1,
    fc.record({
      kind: fc.constant('text' as const),
      text: fc.constantFrom(
        '',
        ' ',
        '{',
        '{"a":}',
        "{'a':1}",
        '{"a":1,}',
        'NaN',
        '\ufeff{}',
        '{} {}',
        '{"a":"\\x"}',
        '{"a":"\\u12"}',
        'a=1&b=2',
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
      ),
    }),
  ],
  [1, fc.record({ kind: fc.constant('bytes' as const), bytes: fc.array(fc.nat(255), { maxLength: 64 }) })],
);

const HEADER_NAMES = [
  'x-request-id',
  'x-hub-version',
  'origin',
  'cookie',
  'accept',
  'x-account-id',
  'if-none-match',
];

const headerValue: fc.Arbitrary<Piece> = weighted<Piece>(
  [2, real('account', 'token', 'id')],
  [
    3,
    fc.constantFrom(
      '1',
      '',
      ' ',
      'null',
      'http://127.0.0.1',
      'null',
      'https://evil.example',
      '*',
      '*/*',
      'text/html',
      'a=b; c',
      '=; ;=',
      'pb_oauth=x',
      '"etag"',
      'x'.repeat(300),
      'x'.repeat(9000),
    ),
  ],
  [2, latin1High],
  [2, fc.string({ unit: 'binary-ascii', maxLength: 40 }).map(withoutControls)],
);

const garbageAuth = fc.oneof(
  fc.constantFrom(
    'Basic',
    'Basic ',
    'Bearer',
    'Bearer ',
    'Basic %%%',
    'Basic Og==',
    'Basic OjpOg==',
    'Digest x',
    'bearer pbk_x',
    'BASIC YTo=',
    ' Bearer x',
    'Bearer \xff\xfe',
    `Bearer ${'k'.repeat(5000)}`,
  ),
  fc.base64String({ maxLength: 80 }).map((s) => `Basic ${s}`),
  fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => `Bearer ${withoutControls(s)}`),
  latin1High.map((s) => `Bearer ${s}`),
);

export const specArbitrary = (routeCount: number): fc.Arbitrary<Spec> =>
  fc.record({
    deep: weighted<boolean>([3, fc.constant(false)], [1, fc.constant(true)]),
    // About one request in twenty goes to a path the server does not have.
    route: fc.nat(Math.ceil(routeCount * 1.05)),
    // Mostly the route's own method; sometimes another one (405, 404).
    method: weighted<string | undefined>(
      [9, fc.constant(undefined)],
      [1, fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND')],
    ),
    params: fc.array(weighted<Piece>([1, real('id')], [1, hostileId]), { minLength: 3, maxLength: 3 }),
    wildcard: weighted<string>([1, fc.constantFrom('', 'x', 'a/b')], [1, hostileId]),
    query: fc.array(fc.tuple(queryKey, queryValue), { maxLength: 5 }),
    rawQuery: weighted<string | undefined>([8, fc.constant(undefined)], [1, rawQuery]),
    credential: weighted<Credential>(
      [3, fc.constant<Credential>('valid')],
      [2, fc.constantFrom<Credential>('key', 'bearer', 'hub', 'both')],
      [5, fc.constantFrom<Credential>('other_key', 'near_miss', 'garbage', 'none')],
    ),
    garbageAuth,
    nearMiss: fc.constantFrom(...MANGLES),
    headers: fc.array(fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue), { maxLength: 3 }),
    contentType: weighted<string | undefined>(
      [6, fc.constant('application/json')],
      [1, fc.constant(undefined)],
      [3, fc.constantFrom(...CONTENT_TYPES)],
    ),
    body,
    framing: weighted<Spec['framing']>(
      [40, fc.constant('none' as const)],
      [1, fc.constantFrom('bad_header_byte', 'te_and_cl', 'bad_chunk', 'huge_header', 'space_in_target')],
    ),
  });
