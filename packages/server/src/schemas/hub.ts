import { z } from 'zod';
import { nonEmptyString } from './common.ts';

/** Response shapes the hub clients (Plugboard's and StackOne's @stackone/hub) rely on, DESIGN §2. */
export const hubSettings = z.object({
  enabled_features: z.array(z.string()),
  existing_account_id: z.string().optional(),
});

export const hubIntegration = z.object({
  active: z.boolean(),
  name: z.string(),
  provider: z.string(),
  type: z.string(),
  version: z.string(),
  authentication_config_key: z.string(),
  environment: z.string(),
  integration_id: z.string(),
  logo_url: z.string(),
});

export const hubConnectorList = z.object({
  integrations: z.array(hubIntegration),
  external_trigger_token: z.string().optional(),
});

export const hubField = z.object({
  key: z.string(),
  label: z.string(),
  type: z.enum(['text', 'password', 'number', 'select', 'text_area']),
  required: z.boolean(),
  readOnly: z.boolean(),
  secret: z.boolean(),
  placeholder: z.string(),
  options: z.array(z.object({ label: z.string(), value: z.string() })).optional(),
  description: z.string().optional(),
  /** StackOne's hub reads { type: 'html-pattern', pattern, error }. */
  validation: z
    .object({ type: z.literal('html-pattern'), pattern: z.string(), error: z.string() })
    .optional(),
});
export type HubField = z.output<typeof hubField>;

export const hubConnectorConfig = z.object({
  config: z.object({
    key: z.string(),
    name: z.string(),
    type: z.enum(['custom', 'oauth2']),
    grantType: z.string().optional(),
    configFields: z.array(hubField),
    configNotices: z.array(z.string()).optional(),
    assets: z.object({ icon: z.string() }),
    support: z.object({ link: z.string(), description: z.string() }).nullable(),
  }),
  hub_settings: z.record(z.string(), z.unknown()),
});

/** Values typed into the form: strings (numbers tolerated for number fields). */
const formValues = z.record(nonEmptyString(200), z.union([z.string().max(10_000), z.number(), z.boolean()]));

export const hubAccountCreate = z.object({
  integration_id: z.uuid({
    error: 'must be the integration_id of a connector listed by GET /hub/connectors',
  }),
  credentials: formValues,
});
export type HubAccountCreate = z.output<typeof hubAccountCreate>;

export const hubAccountCreated = z.object({ id: z.string(), provider: z.string() });

export const hubAccount = z.object({
  secureId: z.string(),
  provider: z.string(),
  setupInformation: z.record(z.string(), z.unknown()),
  secrets: z.record(z.string(), z.string()),
  version: z.string(),
  authConfigKey: z.string(),
  environment: z.string(),
  integrationId: z.string(),
});

export const hubAccountParams = z.object({ id: nonEmptyString(255) });
export const hubConnectorParams = z.object({
  integration_id: z.uuid({ error: 'must be an integration_id' }),
});
export const hubConnectorQuery = z.object({ provider: z.string().max(100).optional() });
