import * as oauth from 'oauth4webapi';
import type { Catalogue } from '../connectors/catalogue.ts';
import { fillTemplate } from '../connectors/templates.ts';
import { generateSecret, hashSecret } from '../crypto/tokens.ts';
import type { Vault } from '../crypto/vault.ts';
import type { Db } from '../db/database.ts';
import type { ConnectSessionRow } from '../db/schema.ts';
import { DomainError, validationFailed } from '../errors.ts';
import { checkUrl } from '../outbound/address-policy.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import { browserUrl } from '../sandbox/constants.ts';
import { findUsableSession } from './connect-sessions.ts';
import { assignAttemptTarget, createAttempt, finishAttempt, sessionAttempt } from './connection-attempts.ts';
import { checkCredentials } from './credential-check.ts';
import { saveAccount } from './hub-accounts.ts';
import { allowedIntegration } from './hub-connectors.ts';
import { validateFormValues } from './hub-form.ts';
import { authMethodOf, effectiveUrls, oauthClientOf } from './integrations.ts';
import { exchangeCode, ProviderOAuthError } from './oauth-client.ts';
import { providerCallError, providerUrl } from './provider-http.ts';

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
): Promise<{ location: string; attemptId: string; browserBinding: BrowserBinding }> {
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
  const target = { integrationId, provider: connector.key };
  const attempt = attemptId
    ? await sessionAttempt(deps.db, session, attemptId)
    : await createAttempt(deps.db, session, target);
  if (attempt.status !== 'pending')
    throw new DomainError('conflict', `Connection attempt ${attempt.id} is already ${attempt.status}.`);
  if (attempt.provider !== target.provider || attempt.integration_id !== target.integrationId) {
    await assignAttemptTarget(deps.db, attempt.id, target);
  }

  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const stateHash = hashSecret(state);
  const binding = generateSecret('');
  await deps.db
    .insertInto('oauth_states')
    .values({
      state_hash: stateHash,
      attempt_id: attempt.id,
      integration_id: integration.id,
      redirect_uri: redirectUri,
      code_verifier_enc: deps.vault.encrypt(verifier, stateAad(stateHash)).ciphertext,
      settings: JSON.stringify(settings),
      browser_binding_hash: hashSecret(binding),
      expires_at: new Date(Date.now() + STATE_LIFETIME_MS),
    })
    .execute();

  const urls = effectiveUrls(connector, integration);
  const authorize = providerUrl(fillTemplate(urls.authorization_url!, settings, { encode: true }));
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
  // The browser is sent there, not the server, but a tenant must not be able to aim end users' browsers
  // at the operator's network either: the same policy as for server-side calls. The sandbox's consent
  // page is the exception: browserUrl moved it onto Plugboard's own public URL.
  const location = browserUrl(authorize.toString(), deps.publicUrl);
  if (location === authorize.toString()) {
    await checkUrl(location, deps.outbound.policy, 'authorization URL').catch((err) => {
      throw providerCallError(err, location, 0);
    });
  }
  return {
    location,
    attemptId: attempt.id,
    browserBinding: {
      name: bindingCookieName(stateHash),
      value: binding,
      maxAgeSeconds: STATE_LIFETIME_MS / 1000,
    },
  };
}

/**
 * RFC 9700 §4.7: the flow must be bound to the browser that started it, or whoever holds a session
 * token could send the provider's authorize link to someone else and collect that person's grant. The
 * start sets a short-lived HttpOnly cookie with a nonce whose hash sits beside the state; the callback
 * only proceeds in a browser that presents it. One cookie per flow (named after the state), so two tabs
 * connecting at once do not overwrite each other's.
 */
export interface BrowserBinding {
  name: string;
  value: string;
  maxAgeSeconds: number;
}

export const bindingCookieName = (stateHash: string) => `pb_oauth_${stateHash.slice(0, 16)}`;

/**
 * GET /connect/oauth2/callback: consumes the state (once), checks the browser binding and that the
 * session still holds, exchanges the code, saves the account, and returns where to send the browser.
 * Provider errors end up on the attempt and in the redirect.
 */
export async function completeAuthorization(
  deps: OAuthDeps,
  callback: URLSearchParams,
  cookie: (name: string) => string | undefined,
): Promise<string> {
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
  const presented = cookie(bindingCookieName(stateHash));
  if (!presented || hashSecret(presented) !== row.browser_binding_hash) {
    // Not the browser that started the flow: nothing is exchanged, and the attempt is over.
    await finishAttempt(deps.db, row.attempt_id, {
      status: 'error',
      code: 'browser_mismatch',
      description: 'The sign-in finished in a different browser than the one that started it.',
    });
    throw validationFailed(
      'This sign-in was started in another browser. Start the connection again from the page that asked you to sign in.',
    );
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
    .executeTakeFirst();
  if (!session || session.revoked_at !== null) {
    return fail('session_revoked', 'The connect session was revoked during sign-in.');
  }
  // The session's lifetime bounds the whole flow: an expired token must not link an account.
  if (session.expires_at.getTime() <= Date.now()) {
    return fail('session_expired', 'The connect session expired during sign-in. Ask for a new link.');
  }
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
