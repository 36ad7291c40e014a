import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connectorSchema } from '../src/connectors/schema.ts';
import type { ContractCase } from './support/contract-cases.ts';
import {
  type ContractStandIn,
  PROBE_PATH,
  REFUSAL_MARK,
  startContractStandIn,
} from './support/contract-stand-in.ts';

/**
 * The contract suite is only as strict as its stand-in: these requests get a credential, a path or an
 * OAuth detail wrong on purpose, and each must be refused with a message naming what was wrong.
 */
const connector = connectorSchema.parse({
  key: 'acme',
  name: 'Acme',
  categories: ['crm'],
  release_stage: 'beta',
  docs_url: 'https://developer.acme.example/auth',
  api_base_url: 'https://{{subdomain}}.acme.example/api/v1',
  auth: [
    {
      key: 'api_key',
      label: 'API key',
      type: 'custom',
      fields: [
        { key: 'subdomain', label: 'Subdomain', type: 'text', required: true, secret: false },
        { key: 'api_key', label: 'API key', type: 'password', required: true },
      ],
      apply: { headers: { 'X-Acme-Key': 'Key {{api_key}}' }, query: { tenant: '{{subdomain}}' } },
    },
    {
      key: 'oauth2',
      label: 'Sign in',
      type: 'oauth2',
      grant_type: 'authorization_code',
      fields: [{ key: 'subdomain', label: 'Subdomain', type: 'text', required: true, secret: false }],
      apply: { headers: { Authorization: 'Bearer {{access_token}}' } },
      authorization_url: 'https://login.acme.example/authorize',
      token_url: 'https://login.acme.example/token',
      token_endpoint_auth: 'client_secret_basic',
      scopes: ['read'],
    },
  ],
  check: { method: 'GET', path: '/me?fields=id' },
});
const keyCase: ContractCase = { connector, method: connector.auth[0]! };
const codeCase: ContractCase = { connector, method: connector.auth[1]! };
const good = { subdomain: 'acme', api_key: 'good-key-123' };
const client = { client_id: 'cid', client_secret: 'csecret' };

describe('contract stand-in', () => {
  let standIn: ContractStandIn;
  let apiBase: string;
  let codeUrls: { authorization_url?: string; token_url?: string };

  before(async () => {
    standIn = await startContractStandIn();
    // Overrides keep the connector's placeholders; fill them the way Plugboard would.
    apiBase = standIn.register(keyCase, good).api_base_url.replace('{{subdomain}}', 'acme');
    codeUrls = standIn.register(codeCase, { subdomain: 'acme' }, client);
  });
  after(() => standIn.close());

  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers });
    const text = await res.text();
    return { status: res.status, body: (JSON.parse(text) as { message: string }).message };
  };

  test('the declared check with every credential in place is accepted', async () => {
    const res = await get(`${apiBase}/me?fields=id&tenant=acme`, { 'x-acme-key': 'Key good-key-123' });
    assert.equal(res.status, 200, res.body);
    const probe = await get(`${apiBase}${PROBE_PATH}?tenant=acme`, { 'x-acme-key': 'Key good-key-123' });
    assert.equal(probe.status, 200, probe.body);
  });

  test('a credential in the wrong form or place is refused, saying what is wrong', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      [`${apiBase}/me?fields=id&tenant=acme`, { 'x-acme-key': 'good-key-123' }, /header X-Acme-Key/],
      [`${apiBase}/me?fields=id&tenant=acme`, { authorization: 'Key good-key-123' }, /header X-Acme-Key/],
      [
        `${apiBase}/me?fields=id&tenant=acme&key=good-key-123`,
        { 'x-acme-key': 'Key good-key-123' },
        /secret "api_key" is in the URL/,
      ],
      [
        `${apiBase}/me?fields=id&tenant=acme`,
        { 'x-acme-key': 'Key good-key-123', 'x-extra': 'good-key-123' },
        /secret "api_key" is in header x-extra/,
      ],
    ];
    for (const [url, headers, reason] of cases) {
      const res = await get(url, headers);
      assert.equal(res.status, 401, `${url} ${JSON.stringify(headers)}`);
      assert.match(res.body, new RegExp(REFUSAL_MARK));
      assert.match(res.body, reason);
    }
  });

  test('a wrong query, path or subdomain is not the check', async () => {
    const headers = { 'x-acme-key': 'Key good-key-123' };
    assert.equal((await get(`${apiBase}/me?tenant=acme`, headers)).status, 400, 'path query missing');
    const otherTenant = await get(`${apiBase}/me?fields=id&tenant=other`, headers);
    assert.equal(otherTenant.status, 401, 'the tenant query parameter differs');
    assert.match(otherTenant.body, /query parameter tenant/);
    assert.equal((await get(`${apiBase}/users?tenant=acme`, headers)).status, 404, 'not the check path');
    const otherHost = apiBase.replace('acme.acme.example', 'evil.acme.example');
    assert.equal(
      (await get(`${otherHost}/me?fields=id&tenant=acme`, headers)).status,
      404,
      'other subdomain',
    );
  });

  async function authorize(challenge: string | undefined) {
    const url = new URL(codeUrls.authorization_url!);
    url.searchParams.set('redirect_uri', 'http://127.0.0.1:9/callback');
    url.searchParams.set('state', 's');
    if (challenge) url.searchParams.set('code_challenge', challenge);
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 302);
    return new URL(res.headers.get('location')!).searchParams.get('code')!;
  }

  const exchange = (form: Record<string, string>, authorization?: string) =>
    fetch(codeUrls.token_url!, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization ? { authorization } : {}),
      },
      body: new URLSearchParams(form),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));

  const basic = `Basic ${Buffer.from('cid:csecret').toString('base64')}`;
  const verifier = 'v'.repeat(43);
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  test('the token endpoint checks client authentication, PKCE and the redirect URI', async () => {
    const form = (code: string, extra: Record<string, string> = {}) => ({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:9/callback',
      code_verifier: verifier,
      ...extra,
    });
    const inBody = await exchange(
      form(await authorize(challenge), { client_id: 'cid', client_secret: 'csecret' }),
    );
    assert.equal(inBody.status, 401, 'client_secret_basic connectors do not take the secret in the body');
    assert.match(inBody.body, /client_secret_basic/);

    const badVerifier = await exchange(
      form(await authorize(challenge), { code_verifier: 'w'.repeat(43) }),
      basic,
    );
    assert.equal(badVerifier.status, 401);
    assert.match(badVerifier.body, /code_verifier does not match/);

    const noPkce = await exchange(form(await authorize(undefined)), basic);
    assert.equal(noPkce.status, 401);
    assert.match(noPkce.body, /PKCE/);

    const otherRedirect = await exchange(
      form(await authorize(challenge), { redirect_uri: 'http://127.0.0.1:9/other' }),
      basic,
    );
    assert.match(otherRedirect.body, /redirect_uri differs/);

    const code = await authorize(challenge);
    const ok = await exchange(form(code), basic);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).token_type, 'Bearer');
    assert.equal((await exchange(form(code), basic)).status, 401, 'a code works once');
  });
});
