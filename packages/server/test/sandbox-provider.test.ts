import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { hashSecret } from '../src/crypto/tokens.ts';
import type { DatabaseHandle } from '../src/db/database.ts';
import type { InProcessHandler } from '../src/outbound/http-client.ts';
import { SANDBOX_OAUTH_CLIENT, SANDBOX_ORIGIN } from '../src/sandbox/constants.ts';
import { type AuthorizeParams, checkAuthorizeRequest, decide } from '../src/sandbox/oauth-server.ts';
import { createSandboxProvider } from '../src/sandbox/provider.ts';
import { backends, createTestDatabase } from './support/backends.ts';

const PUBLIC_URL = 'http://plugboard.test';
const REDIRECT_URI = `${PUBLIC_URL}/connect/oauth2/callback`;
const VERIFIER = 'a-code-verifier-that-is-long-enough-0123456789-abcdefgh';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const BASIC = `Basic ${Buffer.from(`${SANDBOX_OAUTH_CLIENT.client_id}:${SANDBOX_OAUTH_CLIENT.client_secret}`).toString('base64')}`;

async function body(response: Response) {
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on arbitrary JSON shapes.
  return { status: response.status, headers: response.headers, json: (await response.json()) as any };
}

/** The sandbox provider's in-process handler, called directly with web-standard Requests. */
for (const backend of backends()) {
  describe(`sandbox provider (${backend})`, () => {
    let database: DatabaseHandle;
    let sandbox: InProcessHandler;

    before(async () => {
      database = await createTestDatabase(backend);
      sandbox = createSandboxProvider({ db: database.db });
    });
    after(() => database?.close());

    const get = (path: string, headers: Record<string, string> = {}) =>
      sandbox(new Request(`${SANDBOX_ORIGIN}${path}`, { headers })).then(body);
    const token = (form: Record<string, string>, authorization: string | undefined = BASIC) =>
      sandbox(
        new Request(`${SANDBOX_ORIGIN}/oauth/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(authorization ? { authorization } : {}),
          },
          body: new URLSearchParams(form).toString(),
        }),
      ).then(body);

    const authorize = (overrides: Record<string, string | undefined> = {}) =>
      checkAuthorizeRequest(
        {
          response_type: 'code',
          client_id: SANDBOX_OAUTH_CLIENT.client_id,
          redirect_uri: REDIRECT_URI,
          state: 'state-1',
          scope: 'employees:read tickets:read',
          code_challenge: CHALLENGE,
          code_challenge_method: 'S256',
          ...overrides,
        },
        PUBLIC_URL,
      );

    async function code(params: Partial<AuthorizeParams> = {}): Promise<string> {
      const checked = authorize();
      assert.ok('ok' in checked, JSON.stringify(checked));
      const back = new URL(await decide(database.db, { ...checked.ok, ...params }, true));
      assert.equal(back.searchParams.get('state'), 'state-1');
      return back.searchParams.get('code')!;
    }

    async function tokens() {
      const res = await token({
        grant_type: 'authorization_code',
        code: await code(),
        redirect_uri: REDIRECT_URI,
        code_verifier: VERIFIER,
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      return res.json as { access_token: string; refresh_token: string; expires_in: number; scope: string };
    }

    test('the API key sandbox-good is accepted, anything else gets a provider-style 401', async () => {
      const me = await get('/me', { 'x-api-key': 'sandbox-good' });
      assert.equal(me.status, 200);
      assert.equal(me.json.authenticated_with, 'api_key');
      assert.match(me.json.company.name, /\w/);

      const wrong = await get('/me', { 'x-api-key': 'sandbox-bad' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.error, 'invalid_api_key');
      assert.match(wrong.json.message, /Use "sandbox-good"/);

      const index = await get('/', { 'x-api-key': 'sandbox-good' });
      assert.ok(index.json.endpoints.includes('GET /employees'), 'docs_url answers with the endpoints');

      const none = await get('/employees');
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    });

    test("the caller's time limit ends a call the way it ends a network call", async () => {
      const controller = new AbortController();
      controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
      await assert.rejects(
        sandbox(
          new Request(`${SANDBOX_ORIGIN}/me`, {
            headers: { 'x-api-key': 'sandbox-good' },
            signal: controller.signal,
          }),
        ),
        { name: 'TimeoutError' },
      );
    });

    test('employees are paginated, deterministic, and readable one by one', async () => {
      const key = { 'x-api-key': 'sandbox-good' };
      const first = await get('/employees?page_size=10', key);
      assert.equal(first.status, 200);
      assert.equal(first.json.data.length, 10);
      assert.equal(first.json.page, 1);
      assert.equal(first.json.next_page, 2);
      assert.ok(first.json.total >= 40);
      const second = await get('/employees?page=2&page_size=10', key);
      assert.notEqual(second.json.data[0].id, first.json.data[0].id);
      assert.deepEqual((await get('/employees?page_size=10', key)).json, first.json, 'same data every time');
      const last = await get(`/employees?page=${Math.ceil(first.json.total / 10)}&page_size=10`, key);
      assert.equal(last.json.next_page, null);

      const one = await get(`/employees/${first.json.data[3].id}`, key);
      assert.deepEqual(one.json, first.json.data[3]);
      assert.equal((await get('/employees/emp_9999', key)).status, 404);
      assert.equal((await get('/employees?page_size=1000', key)).status, 400);
      assert.equal((await get('/nothing-here', key)).status, 404);

      const open = await get('/tickets?status=open&page_size=100', key);
      assert.ok(open.json.data.every((t: { status: string }) => t.status === 'open'));
      const write = await sandbox(
        new Request(`${SANDBOX_ORIGIN}/employees`, { method: 'POST', headers: key, body: '{}' }),
      );
      assert.equal(write.status, 405, 'read-only');
    });

    test('authorization requests: wrong client or redirect URI are shown, other problems go back', () => {
      assert.ok('show' in authorize({ client_id: 'someone-else' }));
      assert.ok('show' in authorize({ redirect_uri: 'https://evil.example/cb' }));
      for (const [overrides, error] of [
        [{ code_challenge: undefined }, 'invalid_request'],
        [{ code_challenge_method: 'plain' }, 'invalid_request'],
        [{ code_challenge: 'short' }, 'invalid_request'],
        [{ response_type: 'token' }, 'unsupported_response_type'],
        [{ scope: 'employees:write' }, 'invalid_scope'],
      ] as const) {
        const checked = authorize(overrides);
        assert.ok('redirect' in checked, JSON.stringify(overrides));
        const back = new URL(checked.redirect);
        assert.equal(back.origin + back.pathname, REDIRECT_URI);
        assert.equal(back.searchParams.get('error'), error, JSON.stringify(overrides));
        assert.equal(back.searchParams.get('state'), 'state-1');
      }
    });

    test('Deny goes back with access_denied and no code', async () => {
      const checked = authorize();
      assert.ok('ok' in checked);
      const back = new URL(await decide(database.db, checked.ok, false));
      assert.equal(back.searchParams.get('error'), 'access_denied');
      assert.equal(back.searchParams.get('code'), null);
      assert.equal(back.searchParams.get('state'), 'state-1');
    });

    test('codes: PKCE verified, single use, bound to the redirect URI, short-lived', async () => {
      const exchange = (c: string, extra: Record<string, string> = {}) =>
        token({
          grant_type: 'authorization_code',
          code: c,
          redirect_uri: REDIRECT_URI,
          code_verifier: VERIFIER,
          ...extra,
        });
      const wrongVerifier = await exchange(await code(), { code_verifier: `${VERIFIER}x` });
      assert.equal(wrongVerifier.status, 400);
      assert.equal(wrongVerifier.json.error, 'invalid_grant');
      assert.match(wrongVerifier.json.error_description, /PKCE/);

      const wrongRedirect = await exchange(await code(), { redirect_uri: `${PUBLIC_URL}/elsewhere` });
      assert.equal(wrongRedirect.json.error, 'invalid_grant');

      const good = await code();
      const first = await exchange(good);
      assert.equal(first.status, 200, JSON.stringify(first.json));
      assert.equal(first.headers.get('cache-control'), 'no-store');
      assert.equal(first.json.token_type, 'Bearer');
      assert.equal(first.json.expires_in, 3600);
      assert.equal(first.json.scope, 'employees:read tickets:read');
      const again = await exchange(good);
      assert.equal(again.status, 400, 'a code works once');
      assert.equal(again.json.error, 'invalid_grant');

      const late = await code();
      await database.db
        .updateTable('sandbox_oauth_codes')
        .set({ expires_at: new Date(Date.now() - 1) })
        .execute();
      assert.equal((await exchange(late)).json.error, 'invalid_grant', 'expired code');
    });

    test('client authentication: basic or post, wrong secret refused', async () => {
      const form = {
        grant_type: 'authorization_code',
        code: await code(),
        redirect_uri: REDIRECT_URI,
        code_verifier: VERIFIER,
      };
      const wrong = `Basic ${Buffer.from(`${SANDBOX_OAUTH_CLIENT.client_id}:nope`).toString('base64')}`;
      const refused = await token(form, wrong);
      assert.equal(refused.status, 401);
      assert.equal(refused.json.error, 'invalid_client');
      const posted = await token({ ...form, ...SANDBOX_OAUTH_CLIENT }, undefined);
      assert.equal(posted.status, 200, JSON.stringify(posted.json));
      assert.equal((await token({ grant_type: 'password' })).json.error, 'unsupported_grant_type');
    });

    test('bearer tokens: each grant sees its own company; expired tokens get 401', async () => {
      const a = await tokens();
      const b = await tokens();
      const meA = await get('/me', { authorization: `Bearer ${a.access_token}` });
      const meB = await get('/me', { authorization: `Bearer ${b.access_token}` });
      assert.equal(meA.status, 200);
      assert.equal(meA.json.authenticated_with, 'oauth2');
      assert.notEqual(meA.json.company.id, meB.json.company.id, 'seeded per grant');
      assert.equal((await get('/employees', { authorization: `Bearer ${a.access_token}` })).status, 200);

      assert.equal((await get('/me', { authorization: 'Bearer sbx_at_unknown' })).status, 401);
      await database.db
        .updateTable('sandbox_oauth_tokens')
        .set({ expires_at: new Date(Date.now() - 1) })
        .where('kind', '=', 'access')
        .execute();
      const expired = await get('/me', { authorization: `Bearer ${a.access_token}` });
      assert.equal(expired.status, 401);
      assert.equal(expired.json.error, 'invalid_token');
      assert.match(expired.json.message, /expired/);
    });

    test('refresh tokens rotate: the used one is refused with invalid_grant', async () => {
      const first = await tokens();
      const refresh = (t: string) => token({ grant_type: 'refresh_token', refresh_token: t });
      const second = await refresh(first.refresh_token);
      assert.equal(second.status, 200, JSON.stringify(second.json));
      assert.notEqual(second.json.refresh_token, first.refresh_token);
      assert.notEqual(second.json.access_token, first.access_token);
      const reused = await refresh(first.refresh_token);
      assert.equal(reused.status, 400);
      assert.equal(reused.json.error, 'invalid_grant');
      assert.equal((await get('/me', { authorization: `Bearer ${second.json.access_token}` })).status, 200);

      // Two refreshes racing with one token: exactly one wins.
      const raced = await Promise.all([
        refresh(second.json.refresh_token),
        refresh(second.json.refresh_token),
      ]);
      assert.deepEqual(raced.map((r) => r.status).sort(), [200, 400]);
    });

    test('refreshes made to fail: invalid_grant or a 503 outage, the refresh token stays usable', async () => {
      const first = await tokens();
      const { grant_id } = await database.db
        .selectFrom('sandbox_oauth_tokens')
        .select('grant_id')
        .where('token_hash', '=', hashSecret(first.refresh_token))
        .executeTakeFirstOrThrow();
      const failNext = (count: number, error: 'invalid_grant' | 'temporarily_unavailable') =>
        database.db
          .updateTable('sandbox_oauth_grants')
          .set({ failing_refreshes: count, failing_refresh_error: error })
          .where('id', '=', grant_id)
          .execute();
      const refresh = (t: string) => token({ grant_type: 'refresh_token', refresh_token: t });
      await failNext(2, 'invalid_grant');
      for (let i = 0; i < 2; i++) {
        const failed = await refresh(first.refresh_token);
        assert.equal(failed.status, 400);
        assert.equal(failed.json.error, 'invalid_grant');
        assert.match(failed.json.error_description, /on purpose/);
      }
      const second = await refresh(first.refresh_token);
      assert.equal(second.status, 200, 'the third one works with the same token');

      await failNext(1, 'temporarily_unavailable');
      const outage = await refresh(second.json.refresh_token);
      assert.equal(outage.status, 503);
      assert.equal(outage.json.error, 'temporarily_unavailable');
      assert.equal((await refresh(second.json.refresh_token)).status, 200);
    });
  });
}
