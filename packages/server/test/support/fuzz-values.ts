import fc from 'fast-check';

/**
 * Hostile values for the requests of fuzz-requests.ts: ids for path segments, JSON fragments for
 * bodies, content types, and the encodings that carry them (percent-encoding with lone surrogates,
 * Latin-1 text where ASCII is expected).
 */

/** fc.oneof with a weight before each arbitrary. */
export const weighted = <T>(...entries: Array<[number, fc.Arbitrary<T>]>) =>
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

/** Control bytes in a header make Node's parser refuse the request; `Spec.framing` covers that on its own. */
export const withoutControls = (s: string) =>
  [...s].filter((c) => c === '\t' || (c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)).join('');

export const latin1High = fc.string({
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

export const CONTENT_TYPES = [
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
