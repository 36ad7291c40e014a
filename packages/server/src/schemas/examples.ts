/**
 * Example values for the API reference (/docs): one customer, Acme Inc, connecting its BambooHR, so the
 * examples of different operations tell one consistent story. Documentation only; test/openapi-docs
 * checks each example against the schema it illustrates.
 */
export const EXAMPLE = {
  projectId: 'proj_3f8a1c9e5b7d42a6901e4c2b8d7f6a15',
  integrationId: '6f1c2a9e-4b7d-4e3a-9c85-2d1f0b7e8a34',
  accountId: 'acc_9b2e4f71c3a84d5e8f06a1b7c2d93e40',
  attemptId: 'att_5c8e2a1f9b4d47c3a0e6f8b2d1c97a54',
  endpointId: 'whe_2a7c9e1b4f8d43a6b05c7e9a1d3f8b62',
  deliveryId: 'whd_8e1f3b6a9c2d45e7a1b0c4f8e2d6a973',
  eventId: 'evt_4d9a2c7e1f5b48a3b6c0e8d2f1a7c395',
  sessionToken: 'pbcs_R2x9Vb7KqLm4Tz8wYc1NfH6sJd3PgA5eUo0iXrQkZvE',
  created: '2026-11-25T10:00:00.000Z',
  updated: '2026-11-25T10:02:41.000Z',
  publicUrl: 'https://plugboard.example.com',
} as const;

const { projectId, integrationId, accountId, created, updated, publicUrl } = EXAMPLE;

export const connectSessionExample = {
  id: 1842,
  organization_id: 1,
  project_id: projectId,
  origin_owner_id: 'customer-42',
  origin_owner_name: 'Acme Inc',
  origin_username: 'jane.doe@acme.example',
  account_id: null,
  categories: ['hris'],
  provider: null,
  integration_id: null,
  label: 'Acme HR',
  metadata: { plan: 'enterprise' },
  type: 'production',
  external_trigger_token: null,
  allowed_origins: ['https://app.acme-saas.example'],
  created_at: created,
};

export const linkedAccountExample = {
  id: accountId,
  provider: 'bamboohr',
  provider_name: 'BambooHR',
  status: 'active',
  status_reasons: null,
  origin_owner_id: 'customer-42',
  origin_owner_name: 'Acme Inc',
  origin_username: 'jane.doe@acme.example',
  credentials: null,
  setup_information: { subdomain: 'acme' },
  label: 'Acme HR',
  type: 'production',
  integration_id: integrationId,
  metadata: { plan: 'enterprise' },
  created_at: created,
  updated_at: updated,
};

export const authConfigExample = {
  id: integrationId,
  name: 'BambooHR',
  active: true,
  default: true,
  connector_key: 'bamboohr',
  connector_label: 'BambooHR',
  categories: ['hris'],
  logo_url: `${publicUrl}/connectors/logos/bamboohr.svg`,
  release_stage: 'ga',
  authentication_config_key: 'api_key',
  environment: 'production',
  connector_version: '1',
  oauth_client_id: null,
  oauth_scopes: null,
  urls: {},
  created_at: created,
  updated_at: created,
};

export const webhookEndpointExample = {
  id: EXAMPLE.endpointId,
  url: 'https://api.acme-saas.example/hooks/plugboard',
  description: 'Production receiver',
  events: ['account.created', 'account.updated', 'account.refresh_failed'],
  enabled: true,
  previous_secret_expires_at: null,
  created_at: created,
  updated_at: created,
};

export const webhookDeliveryExample = {
  id: EXAMPLE.deliveryId,
  endpoint_id: EXAMPLE.endpointId,
  event_id: EXAMPLE.eventId,
  event_type: 'account.created',
  url: 'https://api.acme-saas.example/hooks/plugboard',
  status: 'succeeded',
  attempts: 1,
  next_attempt_at: null,
  last_status_code: 200,
  last_error: null,
  last_latency_ms: 84,
  delivered_at: updated,
  replay_of: null,
  created_at: updated,
  updated_at: updated,
};

/** What the error handler answers, per status, for a route that takes a body, a query, or neither. */
export function errorExample(
  status: number,
  route: { body: boolean; query: boolean; params: boolean; hub: boolean },
) {
  const timestamp = created;
  switch (status) {
    case 400: {
      const problem = route.body
        ? 'body: Unrecognized key: "categorie"'
        : route.query
          ? 'querystring.page_size: Too big: expected number to be <=1000'
          : route.params
            ? 'params.id: must not be empty'
            : undefined;
      if (!problem) return { statusCode: 400, message: 'The request could not be processed.', timestamp };
      return { statusCode: 400, message: `Invalid request: ${problem}`, timestamp, errors: [problem] };
    }
    case 401:
      return {
        statusCode: 401,
        message: route.hub
          ? 'The connect session token is invalid or has expired. Create a new connect session.'
          : 'Missing API key: send it as HTTP Basic username (empty password) or as "Authorization: Bearer <key>".',
        timestamp,
      };
    case 403:
      return {
        statusCode: 403,
        message: 'This connect session cannot be used from https://other.example.',
        timestamp,
      };
    case 404:
      return { statusCode: 404, message: `Account ${accountId} was not found in this project.`, timestamp };
    case 409:
      return {
        statusCode: 409,
        message:
          '3 linked account(s) use this auth config. Delete them first, or disable it with PATCH { "enabled": false }.',
        timestamp,
      };
    case 422:
      return {
        statusCode: 422,
        message: 'The auth config of this account is gone; reconnect the account.',
        timestamp,
      };
    case 429:
      return {
        statusCode: 429,
        message: 'Rate limit exceeded: at most 1000 requests per minute. Retry after 12 s.',
        timestamp,
      };
    case 502:
      return {
        statusCode: 502,
        message: 'Could not reach api.bamboohr.com.',
        timestamp,
        provider_response: 'getaddrinfo ENOTFOUND api.bamboohr.com',
      };
    case 503:
      return { statusCode: 503, message: 'The database is not reachable.', timestamp };
    case 504:
      return {
        statusCode: 504,
        message: 'Could not reach api.bamboohr.com: no answer within 10 s. Try again in a moment.',
        timestamp,
        provider_response: '',
      };
    default:
      return undefined;
  }
}
