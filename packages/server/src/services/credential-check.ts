import type { AuthMethod } from '../connectors/auth-schema.ts';
import type { Connector } from '../connectors/schema.ts';
import { DomainError } from '../errors.ts';
import type { OutboundClient } from '../outbound/http-client.ts';
import type { EffectiveUrls } from './integrations.ts';
import { buildProviderRequest, type CredentialValues, sendProviderRequest } from './provider-http.ts';

/**
 * Runs the connector's check request with the credentials the end user entered. A rejection becomes
 * a 400 carrying the provider's own answer, so the user sees why; a provider that is down or slow
 * becomes 502/504. Connectors without a check accept any well-formed credentials.
 */
export async function checkCredentials(
  connector: Connector,
  method: AuthMethod,
  urls: EffectiveUrls,
  values: CredentialValues,
  outbound: OutboundClient,
): Promise<void> {
  const check = connector.check;
  if (!check) return;
  const request = buildProviderRequest(urls.api_base_url, check.path, check.method, method, values);
  if (check.body) request.headers['content-type'] = 'application/json';
  const response = await sendProviderRequest(
    outbound,
    request,
    check.body ? { body: JSON.stringify(check.body) } : {},
  );
  const expected = check.expect_status;
  const statusOk = expected
    ? expected.includes(response.status)
    : response.status >= 200 && response.status < 300;
  // Some providers answer 200 to bad credentials and say so in the body (Slack: { "ok": false }).
  if (statusOk && bodyMatches(response.body, check.expect_json)) return;
  if (statusOk) {
    throw new DomainError(
      'validation_failed',
      `${connector.name} rejected these credentials. Check them and try again.`,
      {
        provider_response: response.body,
      },
    );
  }
  if (response.status >= 500) {
    throw new DomainError(
      'provider_unavailable',
      `${connector.name} answered with an error (HTTP ${response.status}) while checking the credentials. Try again later.`,
      { provider_response: response.body },
    );
  }
  throw new DomainError(
    'validation_failed',
    `${connector.name} rejected these credentials (HTTP ${response.status}). Check them and try again.`,
    { provider_response: response.body },
  );
}

function bodyMatches(body: string, expected: Record<string, unknown> | undefined): boolean {
  if (!expected) return true;
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    return Object.entries(expected).every(([key, value]) => json?.[key] === value);
  } catch {
    return false;
  }
}
