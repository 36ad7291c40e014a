import { createHash, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { generateId, generateSecret, hashSecret } from '../crypto/tokens.ts';
import type { Db } from '../db/database.ts';
import { SANDBOX_OAUTH_CLIENT } from './constants.ts';

/**
 * The sandbox's authorization server: authorization code + PKCE (S256 only), single-use short-lived
 * codes, rotating refresh tokens. Small on purpose, but strict where real providers are strict, so
 * that what works against it works against them.
 */

export const SANDBOX_SCOPES = ['employees:read', 'tickets:read'] as const;
export const CODE_LIFETIME_MS = 2 * 60 * 1000;
export const ACCESS_TOKEN_LIFETIME_S = 60 * 60;
const REFRESH_TOKEN_LIFETIME_MS = 90 * 86_400_000;

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The only redirect URI registered for the built-in client: Plugboard's own OAuth callback. */
export const sandboxRedirectUri = (publicUrl: string) => `${publicUrl}/connect/oauth2/callback`;

export interface AuthorizeParams {
  client_id: string;
  redirect_uri: string;
  state: string;
  scope: string;
  code_challenge: string;
}

/**
 * Checks an authorization request. Per RFC 6749 §4.1.2.1 a bad client or redirect URI is shown to the
 * user (never redirected to); other problems go back to the client as error=… on its redirect URI.
 */
export function checkAuthorizeRequest(
  query: Record<string, string | undefined>,
  publicUrl: string,
): { ok: AuthorizeParams } | { show: string } | { redirect: string } {
  if (query.client_id !== SANDBOX_OAUTH_CLIENT.client_id) {
    return {
      show: `Unknown client_id. The sandbox knows one client, "${SANDBOX_OAUTH_CLIENT.client_id}" (built into Plugboard).`,
    };
  }
  if (query.redirect_uri !== sandboxRedirectUri(publicUrl)) {
    return { show: `redirect_uri must be Plugboard's callback, ${sandboxRedirectUri(publicUrl)}.` };
  }
  const back = (error: string, description: string) => {
    const url = new URL(query.redirect_uri!);
    url.searchParams.set('error', error);
    url.searchParams.set('error_description', description);
    if (query.state) url.searchParams.set('state', query.state);
    return { redirect: url.toString() };
  };
  if (query.response_type !== 'code')
    return back('unsupported_response_type', 'Only response_type=code is supported.');
  if (!query.code_challenge || query.code_challenge_method !== 'S256') {
    return back('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256.');
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(query.code_challenge)) {
    return back('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters).');
  }
  const scopes = (query.scope ?? '').split(' ').filter(Boolean);
  const unknown = scopes.filter((s) => !(SANDBOX_SCOPES as readonly string[]).includes(s));
  if (unknown.length) return back('invalid_scope', `Unknown scope(s): ${unknown.join(', ')}.`);
  return {
    ok: {
      client_id: query.client_id,
      redirect_uri: query.redirect_uri,
      state: query.state ?? '',
      scope: (scopes.length ? scopes : [...SANDBOX_SCOPES]).join(' '),
      code_challenge: query.code_challenge,
    },
  };
}

/** The user's answer on the consent page: a single-use code on Allow, access_denied on Deny. */
export async function decide(db: Db, params: AuthorizeParams, allow: boolean): Promise<string> {
  const back = new URL(params.redirect_uri);
  if (params.state) back.searchParams.set('state', params.state);
  if (!allow) {
    back.searchParams.set('error', 'access_denied');
    back.searchParams.set('error_description', 'The user denied access on the sandbox consent page.');
    return back.toString();
  }
  const code = generateSecret('sbx_code_');
  // Codes nobody exchanged pile up otherwise; each consent sweeps the long-expired ones.
  await db
    .deleteFrom('sandbox_oauth_codes')
    .where('expires_at', '<', sql<Date>`now() - interval '1 hour'` as never)
    .execute();
  await db
    .insertInto('sandbox_oauth_codes')
    .values({
      code_hash: hashSecret(code),
      client_id: params.client_id,
      redirect_uri: params.redirect_uri,
      code_challenge: params.code_challenge,
      scope: params.scope,
      expires_at: new Date(Date.now() + CODE_LIFETIME_MS),
    })
    .execute();
  back.searchParams.set('code', code);
  return back.toString();
}

export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

const oauthError = (status: number, error: string, description: string): TokenAnswer => ({
  status,
  body: { error, error_description: description },
});

/** POST /oauth/token: client authentication (basic or post), then the grant. */
export async function tokenEndpoint(
  db: Db,
  form: URLSearchParams,
  authorization: string | null,
): Promise<TokenAnswer> {
  const client = clientCredentials(form, authorization);
  if (
    !client ||
    client.id !== SANDBOX_OAUTH_CLIENT.client_id ||
    !sameSecret(client.secret, SANDBOX_OAUTH_CLIENT.client_secret)
  ) {
    return oauthError(401, 'invalid_client', 'Unknown client or wrong client secret.');
  }
  const grantType = form.get('grant_type');
  if (grantType === 'authorization_code') return exchangeCode(db, form);
  if (grantType === 'refresh_token') return refresh(db, form.get('refresh_token') ?? '');
  return oauthError(400, 'unsupported_grant_type', 'Use authorization_code or refresh_token.');
}

function clientCredentials(form: URLSearchParams, authorization: string | null) {
  if (authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    // RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic credentials.
    const params = new URLSearchParams(`id=${decoded.slice(0, colon)}&secret=${decoded.slice(colon + 1)}`);
    return { id: params.get('id') ?? '', secret: params.get('secret') ?? '' };
  }
  const id = form.get('client_id');
  const secret = form.get('client_secret');
  return id && secret ? { id, secret } : undefined;
}

async function exchangeCode(db: Db, form: URLSearchParams): Promise<TokenAnswer> {
  const code = form.get('code') ?? '';
  const verifier = form.get('code_verifier') ?? '';
  // Deleting it is what makes the code single-use, even when two exchanges race.
  const row = code
    ? await db
        .deleteFrom('sandbox_oauth_codes')
        .where('code_hash', '=', hashSecret(code))
        .returningAll()
        .executeTakeFirst()
    : undefined;
  if (!row || row.expires_at.getTime() < Date.now()) {
    return oauthError(400, 'invalid_grant', 'The code is unknown, expired or already used.');
  }
  if (row.redirect_uri !== form.get('redirect_uri')) {
    return oauthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request.');
  }
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  if (!verifier || !sameSecret(challenge, row.code_challenge)) {
    return oauthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge (PKCE).');
  }
  const grantId = generateId('sbxg_');
  return db.transaction().execute(async (tx) => {
    await tx
      .insertInto('sandbox_oauth_grants')
      .values({ id: grantId, client_id: row.client_id, scope: row.scope })
      .execute();
    return { status: 200, body: await issueTokens(tx, grantId, row.scope) };
  });
}

async function refresh(db: Db, refreshToken: string): Promise<TokenAnswer> {
  const hash = hashSecret(refreshToken);
  const found = refreshToken
    ? await db
        .selectFrom('sandbox_oauth_tokens')
        .innerJoin('sandbox_oauth_grants', 'sandbox_oauth_grants.id', 'sandbox_oauth_tokens.grant_id')
        .select(['grant_id', 'scope', 'used_at', 'expires_at'])
        .where('token_hash', '=', hash)
        .where('kind', '=', 'refresh')
        .executeTakeFirst()
    : undefined;
  if (!found || found.used_at !== null || found.expires_at.getTime() < Date.now()) {
    return oauthError(
      400,
      'invalid_grant',
      'The refresh token is unknown, expired or was already used (tokens rotate).',
    );
  }
  // A failure asked for through fail_next_refresh: a refusal (invalid_grant) or an outage (a 503). Either
  // way the refresh token stays good, so that the account can recover without being connected again.
  const failing = await db
    .updateTable('sandbox_oauth_grants')
    .set({ failing_refreshes: sql<number>`failing_refreshes - 1` as never })
    .where('id', '=', found.grant_id)
    .where('failing_refreshes', '>', 0)
    .returning(['failing_refreshes', 'failing_refresh_error'])
    .executeTakeFirst();
  if (failing) {
    const outage = failing.failing_refresh_error === 'temporarily_unavailable';
    return oauthError(
      outage ? 503 : 400,
      failing.failing_refresh_error,
      `The sandbox failed this refresh on purpose (fail_next_refresh; ${failing.failing_refreshes} more to fail).`,
    );
  }
  return db.transaction().execute(async (tx) => {
    // Only one of two concurrent refreshes with the same token gets through; the other is refused.
    const used = await tx
      .updateTable('sandbox_oauth_tokens')
      .set({ used_at: sql<Date>`now()` as never })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .returning('grant_id')
      .executeTakeFirst();
    if (!used) return oauthError(400, 'invalid_grant', 'The refresh token was already used (tokens rotate).');
    // Keep the grant's table small: drop its tokens that can no longer be used.
    await tx
      .deleteFrom('sandbox_oauth_tokens')
      .where('grant_id', '=', found.grant_id)
      .where((eb) =>
        eb.or([
          eb('expires_at', '<', sql<Date>`now() - interval '1 day'` as never),
          eb('used_at', '<', sql<Date>`now() - interval '1 day'` as never),
        ]),
      )
      .execute();
    return { status: 200, body: await issueTokens(tx, found.grant_id, found.scope) };
  });
}

async function issueTokens(tx: Db, grantId: string, scope: string) {
  const access = generateSecret('sbx_at_');
  const refreshToken = generateSecret('sbx_rt_');
  await tx
    .insertInto('sandbox_oauth_tokens')
    .values([
      {
        token_hash: hashSecret(access),
        grant_id: grantId,
        kind: 'access',
        expires_at: new Date(Date.now() + ACCESS_TOKEN_LIFETIME_S * 1000),
      },
      {
        token_hash: hashSecret(refreshToken),
        grant_id: grantId,
        kind: 'refresh',
        expires_at: new Date(Date.now() + REFRESH_TOKEN_LIFETIME_MS),
      },
    ])
    .execute();
  return {
    access_token: access,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_LIFETIME_S,
    refresh_token: refreshToken,
    scope,
  };
}

/** The grant behind a bearer token, or why there is none (for the WWW-Authenticate answer). */
export async function grantOfAccessToken(
  db: Db,
  token: string,
): Promise<{ grantId: string; scopes: string[] } | { problem: string }> {
  const row = await db
    .selectFrom('sandbox_oauth_tokens')
    .innerJoin('sandbox_oauth_grants', 'sandbox_oauth_grants.id', 'sandbox_oauth_tokens.grant_id')
    .select(['grant_id', 'scope', 'expires_at'])
    .where('token_hash', '=', hashSecret(token))
    .where('kind', '=', 'access')
    .executeTakeFirst();
  if (!row) return { problem: 'The access token is unknown or was revoked.' };
  if (row.expires_at.getTime() <= Date.now()) return { problem: 'The access token has expired.' };
  return { grantId: row.grant_id, scopes: row.scope.split(' ') };
}
