import fc from 'fast-check';
import {
  CONTENT_TYPES,
  hostileId,
  jsonFragment,
  latin1High,
  percentEncode,
  weighted,
  withoutControls,
} from './fuzz-values.ts';

/**
 * Generators of hostile requests for test/fuzz-routes.test.ts. A generated request is symbolic: "the
 * real account id, with a character appended" rather than the id itself, because rows are made (and
 * deleted by the fuzzed requests themselves) while the run goes on; `materialize` (fuzz-materialize.ts)
 * resolves the symbols against the rows that exist at that moment. The hostile values the requests are
 * made of are in fuzz-values.ts.
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

const MANGLES = ['append', 'truncate', 'upper', 'nul', 'double', 'latin1'] as const;
const mangle = weighted<Real['mangle']>([1, fc.constant('none' as const)], [1, fc.constantFrom(...MANGLES)]);
const real = (...kinds: Real['real'][]) =>
  fc.record({ real: fc.constantFrom(...kinds), mangle }) as fc.Arbitrary<Real>;

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
