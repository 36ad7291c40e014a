import * as oauth from 'oauth4webapi';
import type { Catalogue } from '../connectors/catalogue.ts';
import { fillTemplate } from '../connectors/schema.ts';
import { hashSecret } from '../crypto/tokens.ts';
import type { Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import type { ConnectSessionRow } from '../db/schema.ts';
import { DomainError, validationFailed } from '../errors.ts';
import { checkUrl } from '../outbound/address-policy.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import { browserUrl } from '../sandbox/constants.ts';
import { findUsableSession } from './connect-sessions.ts';
import { createAttempt, finishAttempt, sessionAttempt } from './connection-attempts.ts';
import { checkCredentials } from './credential-check.ts';
import { saveAccount } from './hub-accounts.ts';
import { allowedIntegration } from './hub-connectors.ts';
import { validateFormValues } from './hub-form.ts';
import { authMethodOf, effectiveUrls, oauthClientOf } from './integrations.ts';
import { exchangeCode, ProviderOAuthError } from './oauth-client.ts';
import { providerCallError } from './provider-http.ts';

export interface OAuthDeps {
  db: Db;
  vault: Vault;
  catalogue: Catalogue;
  publicUrl: string;
  outbound: OutboundClient;
  oauthRedirectUris: string[];
}

const STATE_LIFETIME_MS = 15 * 60 * 1000;
const stateAad = (stateHash: string) => `oauth_states:${stateHash}`;

/** The one callback URL registered with every provider's OAuth app. */
export const callbackUrl = (publicUrl: string) => `${publicUrl}/connect/oauth2/callback`;
export const finishPageUrl = (publicUrl: string) => `${publicUrl}/embedded/accounts/callback`;

/** scheme://host/path of a URL, for comparisons that ignore the query and fragment. */
function base(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Where the browser may be sent back to: Plugboard's finish page, an origin the session allows, or an
 * entry of PLUGBOARD_OAUTH_REDIRECT_URIS (an origin, or an exact URI such as a native app's).
 */
export function isAllowedRedirect(
  redirectUri: string,
  session: ConnectSessionRow,
  deps: Pick<OAuthDeps, 'publicUrl' | 'oauthRedirectUris'>,
) {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return false;
  }
  if (base(url) === base(new URL(finishPageUrl(deps.publicUrl)))) return true;
  if (session.allowed_origins?.includes(url.origin)) return true;
  return deps.oauthRedirectUris.some((entry) => {
    const allowed = new URL(entry);
    const originOnly = allowed.pathname === '/' && !entry.endsWith('/') && allowed.origin !== 'null';
    return originOnly ? allowed.origin === url.origin : base(allowed) === base(url);
  });
}

/**
 * GET /connect/oauth2/{integration_id}: validates everything, remembers a single-use state bound to
 * the session and attempt (with the PKCE verifier, encrypted), and returns the provider's authorize URL.
 */
export async function startAuthorization(
  deps: OAuthDeps,
  integrationId: string,
  query: Record<string, string>,
): Promise<{ location: string; attemptId: string }> {
  const { token, redirect_uri: redirectUri, connection_attempt_id: attemptId, ...fields } = query;
  const session = token ? await findUsableSession(deps.db, undefined, token) : undefined;
  if (!session) throw new DomainError('unauthorized', 'The connect session token is invalid or has expired.');
  if (!redirectUri || !isAllowedRedirect(redirectUri, session, deps)) {
    throw validationFailed(
      "redirect_uri is not allowed: use the finish page, an origin of the session's allowed_origins, or one listed in PLUGBOARD_OAUTH_REDIRECT_URIS.",
    );
  }
  const { row: integration, connector } = await allowedIntegration(deps, session, integrationId);
  const method = authMethodOf(connector, integration.auth_method);
  if (method.type !== 'oauth2' || method.grant_type !== 'authorization_code') {
    throw validationFailed(
      `${connector.name} does not connect through an OAuth redirect; use its form instead.`,
    );
  }
  const client = await oauthClientOf(deps.vault, integration);
  if (!client)
    throw validationFailed(
      'This auth config has no OAuth client; set oauth.client_id and client_secret on it.',
    );
  // Non-secret fields of the form (a Salesforce My Domain, a region…) travel in the query string;
  // other query parameters a hub may add are ignored.
  const known = new Set(method.fields.map((f) => f.key));
  const formValues = Object.fromEntries(Object.entries(fields).filter(([k]) => known.has(k)));
  const settings = validateFormValues(method.fields, formValues).settings;
  const attempt = attemptId
    ? await sessionAttempt(deps.db, session, attemptId)
    : await createAttempt(deps.db, session, { integrationId, provider: connector.key });
  if (attempt.status !== 'pending')
    throw new DomainError('conflict', `Connection attempt ${attempt.id} is already ${attempt.status}.`);

  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const stateHash = hashSecret(state);
  await deps.db
    .insertInto('oauth_states')
    .values({
      state_hash: stateHash,
      attempt_id: attempt.id,
      integration_id: integration.id,
      redirect_uri: redirectUri,
      code_verifier_enc: deps.vault.encrypt(verifier, stateAad(stateHash)).ciphertext,
      settings: JSON.stringify(settings),
      expires_at: new Date(Date.now() + STATE_LIFETIME_MS),
    })
    .execute();

  const urls = effectiveUrls(connector, integration);
  const authorize = new URL(fillTemplate(urls.authorization_url!, settings, { encode: true }));
  const scopes = integration.oauth_scopes ?? method.scopes;
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: callbackUrl(deps.publicUrl),
    state,
    ...(scopes.length ? { scope: scopes.join(method.scope_separator ?? ' ') } : {}),
    ...(method.pkce === false
      ? {}
      : { code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }),
    ...method.authorize_params,
  };
  for (const [k, v] of Object.entries(params)) authorize.searchParams.set(k, v);
  const location = browserUrl(authorize.toString(), deps.publicUrl);
  // The browser is sent there, not the server, but a tenant must not be able to aim end users' browsers
  // at the operator's network either: the same policy as for server-side calls. The sandbox's consent
  // page is the exception: browserUrl moved it onto Plugboard's own public URL.
  if (location === authorize.toString()) {
    await checkUrl(location, deps.outbound.policy, 'authorization URL').catch((err) => {
      throw providerCallError(err, location, 0);
    });
  }
  return { location, attemptId: attempt.id };
}

/**
 * GET /connect/oauth2/callback: consumes the state (once), exchanges the code, saves the account, and
 * returns where to send the browser. Provider errors end up on the attempt and in the redirect.
 */
export async function completeAuthorization(deps: OAuthDeps, callback: URLSearchParams): Promise<string> {
  const state = callback.get('state');
  const stateHash = state ? hashSecret(state) : '';
  const row = state
    ? await deps.db
        .deleteFrom('oauth_states')
        .where('state_hash', '=', stateHash)
        .returningAll()
        .executeTakeFirst()
    : undefined;
  if (!row || row.expires_at.getTime() < Date.now()) {
    throw validationFailed('This sign-in link was already used or has expired. Start the connection again.');
  }
  const back = new URL(row.redirect_uri);
  back.searchParams.set('connection_attempt_id', row.attempt_id);
  const fail = async (code: string, description: string) => {
    await finishAttempt(deps.db, row.attempt_id, { status: 'error', code, description });
    back.searchParams.set('status', 'error');
    back.searchParams.set('error', code);
    back.searchParams.set('error_description', description);
    return back.toString();
  };

  const providerError = callback.get('error');
  if (providerError)
    return fail(providerError, callback.get('error_description') ?? 'The provider did not grant access.');

  const attempt = await deps.db
    .selectFrom('connection_attempts')
    .selectAll()
    .where('id', '=', row.attempt_id)
    .executeTakeFirstOrThrow();
  const session = await deps.db
    .selectFrom('connect_sessions')
    .selectAll()
    .where('id', '=', attempt.session_id as never)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!session) return fail('session_revoked', 'The connect session was revoked during sign-in.');
  try {
    const { row: integration, connector } = await allowedIntegration(deps, session, row.integration_id);
    const method = authMethodOf(connector, integration.auth_method);
    if (method.type !== 'oauth2') return fail('invalid_request', 'The integration no longer uses OAuth.');
    const client = await oauthClientOf(deps.vault, integration);
    if (!client) return fail('invalid_client', 'The auth config lost its OAuth client.');
    const settings = row.settings ?? {};
    const urls = effectiveUrls(connector, integration);
    const endpoint = {
      method,
      tokenUrl: fillTemplate(urls.token_url!, settings, { encode: true }),
      authorizationUrl: fillTemplate(urls.authorization_url!, settings, { encode: true }),
      clientId: client.client_id,
      clientSecret: client.client_secret,
      outbound: deps.outbound,
    };
    const verifier = await deps.vault.decrypt(row.code_verifier_enc, stateAad(stateHash));
    const tokens = await exchangeCode(endpoint, callback, state!, callbackUrl(deps.publicUrl), verifier);
    await checkCredentials(
      connector,
      method,
      urls,
      { ...settings, access_token: tokens.access_token },
      deps.outbound,
    );
    const account = await saveAccount(deps, session, integration, connector, {
      secrets: { ...tokens },
      settings,
      tokenExpiresAt: tokens.expires_at ? new Date(tokens.expires_at) : null,
    });
    await finishAttempt(deps.db, row.attempt_id, { status: 'authenticated', accountId: account.id });
    back.searchParams.set('status', 'success');
    back.searchParams.set('account_id', account.id);
    back.searchParams.set('provider', account.provider);
    return back.toString();
  } catch (err) {
    if (err instanceof ProviderOAuthError) return fail(err.oauthError, err.message);
    if (err instanceof DomainError) return fail(err.code, err.message);
    throw err;
  }
}
