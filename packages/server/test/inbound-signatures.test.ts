import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { connectorSchema } from '../src/connectors/schema.ts';
import { parseSignedTimestamp, verifySignature } from '../src/services/inbound/signature.ts';

// How a connector file declares the signature of the events its provider posts (the rules of
// connectors/inbound-schema.ts), and how a signature is verified against such a declaration.

describe('inbound signature declarations', () => {
  const base = {
    key: 'acme',
    name: 'Acme',
    categories: ['crm'],
    release_stage: 'beta',
    api_base_url: 'https://api.acme.test',
    docs_url: 'https://docs.acme.test',
    auth: [
      {
        key: 'api_key',
        label: 'API key',
        type: 'custom',
        fields: [
          { key: 'api_key', label: 'API key', type: 'password', required: true },
          { key: 'hook_secret', label: 'Hook secret', type: 'password', required: false },
          { key: 'region', label: 'Region', type: 'text', required: false, secret: false },
        ],
        apply: { headers: { Authorization: 'Bearer {{api_key}}' } },
      },
    ],
  };
  const signature = {
    header: 'X-Acme-Signature',
    algorithm: 'sha256',
    encoding: 'hex',
    secret_field: 'hook_secret',
  };
  const problems = (inbound: unknown) => {
    const result = connectorSchema.safeParse({ ...base, inbound });
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  test('a complete declaration is accepted', () => {
    assert.deepEqual(problems({ signature, forward_headers: ['X-Acme-Event'] }), []);
    assert.deepEqual(
      problems({
        signature: {
          ...signature,
          payload: 'v0:{{timestamp}}:{{body}}',
          timestamp_header: 'X-Acme-Time',
          tolerance_seconds: 60,
        },
      }),
      [],
    );
  });

  test('mistakes are refused with what to fix', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        { signature: { ...signature, secret_field: 'region' } },
        /secret_field: no auth method has a secret field "region"/,
      ],
      [{ signature: { ...signature, secret_field: 'nope' } }, /no auth method has a secret field "nope"/],
      [
        { signature: { ...signature, payload: '{{timestamp}}', timestamp_header: 'X-T' } },
        /payload: must contain \{\{body\}\}/,
      ],
      [
        { signature: { ...signature, payload: '{{timestamp}}.{{body}}' } },
        /timestamp_header: a payload with \{\{timestamp\}\} needs/,
      ],
      [{ signature: { ...signature, timestamp_header: 'X-T' } }, /does not sign \{\{timestamp\}\}/],
      [
        { signature: { ...signature, payload: '{{api_key}}{{body}}' } },
        /only \{\{timestamp\}\} and \{\{body\}\} can be signed/,
      ],
      [{ signature: { ...signature, tolerance_seconds: 30 } }, /tolerance_seconds: only applies/],
      [{ signature: { ...signature, algorithm: 'md5' } }, /signature\.algorithm/],
      [{ signature: { ...signature, extra: true } }, /signature/],
      [{ forward_headers: ['Authorization'] }, /forward_headers\.0: "Authorization" carries a credential/],
      [{ signature, forward_headers: ['x-acme-signature'] }, /carries a credential or signature/],
    ];
    for (const [inbound, expected] of cases) {
      const found = problems(inbound);
      assert.ok(
        found.some((p) => expected.test(p)),
        `${JSON.stringify(inbound)} gave ${JSON.stringify(found)}`,
      );
    }
  });

  test('verification: prefix, base64, several signatures, timestamps in seconds, milliseconds and ISO', () => {
    const body = Buffer.from('{"a":1}');
    const header = (values: Record<string, string>) => (name: string) => values[name.toLowerCase()];
    const hmac = (algo: string, data: string) => createHmac(algo, 's3cret').update(data);
    const decl = { header: 'X-Sig', algorithm: 'sha1', encoding: 'base64', secret_field: 'x' } as const;
    const good = hmac('sha1', '{"a":1}').digest('base64');
    assert.deepEqual(verifySignature(decl, 's3cret', body, header({ 'x-sig': good })), { ok: true });
    assert.deepEqual(verifySignature(decl, 's3cret', body, header({ 'x-sig': `old==, ${good}` })), {
      ok: true,
    });
    assert.equal(verifySignature(decl, 'other', body, header({ 'x-sig': good })).ok, false);

    const timed = {
      header: 'X-Sig',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'v0=',
      secret_field: 'x',
      payload: 'v0:{{timestamp}}:{{body}}',
      timestamp_header: 'X-Time',
      tolerance_seconds: 300,
    } as const;
    const now = Date.parse('2026-11-30T12:00:00Z');
    const sig = (ts: string) => `v0=${hmac('sha256', `v0:${ts}:{"a":1}`).digest('hex')}`;
    const at = (ts: string) => header({ 'x-sig': sig(ts), 'x-time': ts });
    assert.equal(verifySignature(timed, 's3cret', body, at(String(now / 1000 - 299)), now).ok, true);
    assert.equal(verifySignature(timed, 's3cret', body, at(String(now / 1000 - 301)), now).ok, false);
    assert.equal(verifySignature(timed, 's3cret', body, at(String(now / 1000 + 301)), now).ok, false);
    assert.equal(parseSignedTimestamp(String(now)), now);
    assert.equal(parseSignedTimestamp('2026-11-30T12:00:00Z'), now);
    assert.equal(parseSignedTimestamp('yesterday'), undefined);
  });
});
