import { z } from 'zod';
import {
  CATEGORIES,
  httpUrl,
  isoDateTime,
  nonEmptyString,
  pagination,
  queryBoolean,
  storableString,
} from './common.ts';
import { authConfigExample } from './examples.ts';

const ENVIRONMENTS = ['production', 'staging', 'development', 'test'] as const;

const oauthClient = z.strictObject({
  client_id: nonEmptyString(500),
  client_secret: nonEmptyString(2000),
  scopes: z.array(nonEmptyString(200)).max(100).optional(),
});

/** Per-integration replacements for the connector's URLs (how tests aim a connector at 127.0.0.1). */
const urlOverrides = z.strictObject({
  api_base_url: httpUrl.optional(),
  authorization_url: httpUrl.optional(),
  token_url: httpUrl.optional(),
});

export const authConfigCreate = z
  .strictObject({
    connector_key: nonEmptyString(100),
    name: nonEmptyString(255).optional(),
    enabled: z.boolean().optional(),
    default: z.boolean().optional(),
    environment: z.enum(ENVIRONMENTS).optional(),
    /** Which of the connector's auth methods to offer; the connector's first one when absent. */
    authentication_config_key: nonEmptyString(100).optional(),
    oauth: oauthClient.optional(),
    urls: urlOverrides.optional(),
  })
  .meta({
    id: 'AuthConfigCreate',
    examples: [
      {
        connector_key: 'hubspot',
        name: 'HubSpot (production)',
        oauth: {
          client_id: '7c0e5b1d-3f2a-4b8e-9d61-0a2c4e8f1b35',
          client_secret: 'a8f3e1c9-52d7-4b60-8e2f-9c1d7a3b5e04',
          scopes: ['crm.objects.contacts.read'],
        },
      },
    ],
  });
export type AuthConfigCreate = z.output<typeof authConfigCreate>;

export const authConfigUpdate = z
  .strictObject({
    name: nonEmptyString(255).optional(),
    enabled: z.boolean().optional(),
    default: z.boolean().optional(),
    environment: z.enum(ENVIRONMENTS).optional(),
    authentication_config_key: nonEmptyString(100).optional(),
    oauth: oauthClient.nullable().optional(),
    urls: urlOverrides.nullable().optional(),
  })
  .meta({ id: 'AuthConfigUpdate', examples: [{ name: 'BambooHR (EU)', enabled: false }] });
export type AuthConfigUpdate = z.output<typeof authConfigUpdate>;

export const authConfig = z
  .object({
    id: z.string(),
    name: z.string(),
    active: z.boolean(),
    default: z.boolean(),
    connector_key: z.string(),
    connector_label: z.string(),
    categories: z.array(z.enum(CATEGORIES)),
    logo_url: z.string(),
    release_stage: z.string(),
    authentication_config_key: z.string(),
    environment: z.string(),
    connector_version: z.string(),
    /** The OAuth client id (never the secret), when the integration has one. */
    oauth_client_id: z.string().nullable(),
    oauth_scopes: z.array(z.string()).nullable(),
    urls: z.record(z.string(), z.string()),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .meta({ id: 'AuthConfig', examples: [authConfigExample] });
export type AuthConfig = z.output<typeof authConfig>;

export const authConfigList = z
  .object({
    data: z.array(authConfig),
    page: z.number().int(),
    page_size: z.number().int(),
    total: z.number().int(),
  })
  .meta({ examples: [{ data: [authConfigExample], page: 1, page_size: 25, total: 1 }] });

export const authConfigListQuery = z.object({
  connector_key: storableString(100).optional(),
  enabled: queryBoolean.optional(),
  ...pagination,
});
export type AuthConfigListQuery = z.output<typeof authConfigListQuery>;

export const authConfigIdParams = z.object({ id: z.uuid({ error: 'must be an auth config id (UUID)' }) });
