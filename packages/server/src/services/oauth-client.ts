import * as oauth from 'oauth4webapi';
import type { AuthMethod } from '../connectors/auth-schema.ts';
import { DomainError } from '../errors.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import { providerCallError, providerUrl } from './provider-http.ts';

type OAuthMethod = Extract<AuthMethod, { type: 'oauth2' }>;

/** Token fields kept (encrypted) with an OAuth account. */
export interface OAuthTokens {
  access_token: string;
  refresh_token?: string;
  token_type?: string;
  scope?: string;
  /** ISO date-time when the access token stops working. */
  expires_at?: string;
}

export interface TokenEndpoint {
  method: OAuthMethod;
  tokenUrl: string;
  authorizationUrl?: string;
  clientId: string;
  clientSecret: string;
  /** Token requests go through the outbound guard like every other provider call. */
  outbound: OutboundClient;
}

/** oauth4webapi describes the provider as an "authorization server"; ours come from connector data. */
export function authorizationServer(
  endpoint: Pick<TokenEndpoint, 'tokenUrl' | 'authorizationUrl'>,
): oauth.AuthorizationServer {
  return {
    issuer: providerUrl(endpoint.tokenUrl).origin,
    token_endpoint: endpoint.tokenUrl,
    ...(endpoint.authorizationUrl ? { authorization_endpoint: endpoint.authorizationUrl } : {}),
  };
}

function clientAuth(endpoint: TokenEndpoint): oauth.ClientAuth {
  return endpoint.method.token_endpoint_auth === 'client_secret_basic'
    ? oauth.ClientSecretBasic(endpoint.clientSecret)
    : oauth.ClientSecretPost(endpoint.clientSecret);
}

function requestOptions(endpoint: TokenEndpoint) {
  return {
    // Plain http is only possible through an integration's URL override, on ranges the operator opened.
    [oauth.allowInsecureRequests]: endpoint.tokenUrl.startsWith('http:'),
    [oauth.customFetch]: endpoint.outbound.fetch as unknown as typeof fetch,
  };
}

export function tokensFrom(response: oauth.TokenEndpointResponse, previous?: OAuthTokens): OAuthTokens {
  return {
    access_token: response.access_token,
    // Providers that do not rotate refresh tokens omit them from refresh responses: keep the old one.
    ...((response.refresh_token ?? previous?.refresh_token)
      ? { refresh_token: response.refresh_token ?? previous?.refresh_token }
      : {}),
    ...(response.token_type ? { token_type: String(response.token_type) } : {}),
    ...(response.scope ? { scope: response.scope } : {}),
    ...(typeof response.expires_in === 'number'
      ? { expires_at: new Date(Date.now() + response.expires_in * 1000).toISOString() }
      : {}),
  };
}

export async function exchangeCode(
  endpoint: TokenEndpoint,
  callback: URLSearchParams,
  expectedState: string,
  redirectUri: string,
  codeVerifier: string,
): Promise<OAuthTokens> {
  const as = authorizationServer(endpoint);
  const client = { client_id: endpoint.clientId };
  return withProviderErrors(endpoint, async () => {
    // Checks state (again) and, when the provider sends one, the issuer of the response.
    const params = oauth.validateAuthResponse(as, client, callback, expectedState);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth(endpoint),
      params,
      redirectUri,
      codeVerifier,
      requestOptions(endpoint),
    );
    return tokensFrom(await oauth.processAuthorizationCodeResponse(as, client, response));
  });
}

export async function refreshTokens(endpoint: TokenEndpoint, previous: OAuthTokens): Promise<OAuthTokens> {
  if (!previous.refresh_token)
    throw new DomainError('unprocessable', 'This account has no refresh token; reconnect it.');
  const as = authorizationServer(endpoint);
  const client = { client_id: endpoint.clientId };
  return withProviderErrors(endpoint, async () => {
    const response = await oauth.refreshTokenGrantRequest(
      as,
      client,
      clientAuth(endpoint),
      previous.refresh_token!,
      requestOptions(endpoint),
    );
    return tokensFrom(await oauth.processRefreshTokenResponse(as, client, response), previous);
  });
}

export async function clientCredentialsTokens(
  endpoint: TokenEndpoint,
  scopes: string[],
): Promise<OAuthTokens> {
  const as = authorizationServer(endpoint);
  const client = { client_id: endpoint.clientId };
  const params: Record<string, string> = scopes.length
    ? { scope: scopes.join(endpoint.method.scope_separator ?? ' ') }
    : {};
  return withProviderErrors(endpoint, async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      clientAuth(endpoint),
      params,
      requestOptions(endpoint),
    );
    return tokensFrom(await oauth.processClientCredentialsResponse(as, client, response));
  });
}

/** An OAuth error from the provider, with its code (invalid_grant, access_denied…) kept for callers. */
export class ProviderOAuthError extends DomainError {
  constructor(
    readonly oauthError: string,
    description: string,
    providerResponse: string,
    /** The token endpoint's HTTP status (400 for a refusal, 5xx when the provider itself failed). */
    readonly httpStatus = 400,
  ) {
    super('validation_failed', description, { provider_response: providerResponse });
  }

  /**
   * A definite "no" that retrying will not change (RFC 6749 §5.2): the grant or the client is refused.
   * Anything else (5xx bodies, temporarily_unavailable, rate limits) is transient.
   */
  get definiteRefusal(): boolean {
    return (
      this.httpStatus < 500 &&
      ['invalid_grant', 'invalid_client', 'unauthorized_client', 'unsupported_grant_type'].includes(
        this.oauthError,
      )
    );
  }
}

/** What a token endpoint's failed answer said about when to come back (429/503 with Retry-After). */
export interface TokenEndpointPushback {
  status: number;
  retryAfterMs?: number;
}
const pushbacks = new WeakMap<object, TokenEndpointPushback>();

/** The HTTP status and Retry-After of the answer behind a failed token request, when there was one. */
export const tokenEndpointPushback = (err: unknown): TokenEndpointPushback | undefined =>
  typeof err === 'object' && err !== null ? pushbacks.get(err) : undefined;

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function withProviderErrors<T>(endpoint: TokenEndpoint, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    // oauth4webapi keeps the Response on body errors, and as the cause of non-conform (non-JSON) answers.
    const cause = (err as { cause?: unknown }).cause;
    const response =
      err instanceof oauth.ResponseBodyError ? err.response : cause instanceof Response ? cause : undefined;
    const failure =
      err instanceof oauth.ResponseBodyError
        ? new ProviderOAuthError(
            err.error,
            `The provider refused the token request: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}.`,
            JSON.stringify(err.cause),
            err.status,
          )
        : providerCallError(err, endpoint.tokenUrl, endpoint.outbound.timeoutMs);
    if (response) {
      pushbacks.set(failure, {
        status: response.status,
        retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
      });
    }
    throw failure;
  }
}
