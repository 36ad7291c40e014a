import { z } from 'zod';
import { nonEmptyString } from './common.ts';
import { EXAMPLE } from './examples.ts';

const bamboohrLogo = `${EXAMPLE.publicUrl}/connectors/logos/bamboohr.svg`;

/** Response shapes the hub clients (Plugboard's and StackOne's @stackone/hub) rely on, DESIGN §2. */
export const hubSettings = z
  .object({
    enabled_features: z.array(z.string()),
    existing_account_id: z.string().optional(),
  })
  .meta({ examples: [{ enabled_features: [] }] });

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

export const hubConnectorList = z
  .object({
    integrations: z.array(hubIntegration),
    external_trigger_token: z.string().optional(),
  })
  .meta({
    examples: [
      {
        integrations: [
          {
            active: true,
            name: 'BambooHR',
            provider: 'bamboohr',
            type: 'hris',
            version: '1',
            authentication_config_key: 'api_key',
            environment: 'production',
            integration_id: EXAMPLE.integrationId,
            logo_url: bamboohrLogo,
          },
        ],
      },
    ],
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

export const hubConnectorConfig = z
  .object({
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
  })
  .meta({
    examples: [
      {
        config: {
          key: 'bamboohr',
          name: 'BambooHR',
          type: 'custom',
          configFields: [
            {
              key: 'subdomain',
              label: 'Company subdomain',
              type: 'text',
              required: true,
              readOnly: false,
              secret: false,
              placeholder: 'acme',
              description: 'The part before .bamboohr.com in your BambooHR address.',
              validation: {
                type: 'html-pattern',
                pattern: '^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$',
                error: 'Letters, digits and dashes only, e.g. acme',
              },
            },
            {
              key: 'api_key',
              label: 'API key',
              type: 'password',
              required: true,
              readOnly: false,
              secret: true,
              placeholder: 'Your BambooHR API key',
            },
          ],
          assets: { icon: bamboohrLogo },
          support: {
            link: 'https://documentation.bamboohr.com/docs/getting-started',
            description: 'Create an API key in BambooHR under your name > API Keys.',
          },
        },
        hub_settings: {},
      },
    ],
  });

/** Values typed into the form: strings (numbers tolerated for number fields). */
const formValues = z.record(nonEmptyString(200), z.union([z.string().max(10_000), z.number(), z.boolean()]));

export const hubAccountCreate = z
  .object({
    integration_id: z.uuid({
      error: 'must be the integration_id of a connector listed by GET /hub/connectors',
    }),
    credentials: formValues,
  })
  .meta({
    examples: [
      {
        integration_id: EXAMPLE.integrationId,
        credentials: { subdomain: 'acme', api_key: '4f1b9c2e7a3d8e6f0b5c1a9d2e7f3b8c6a0d4e1f' },
      },
    ],
  });
export type HubAccountCreate = z.output<typeof hubAccountCreate>;

export const hubAccountCreated = z
  .object({ id: z.string(), provider: z.string() })
  .meta({ examples: [{ id: EXAMPLE.accountId, provider: 'bamboohr' }] });

export const hubAccount = z
  .object({
    secureId: z.string(),
    provider: z.string(),
    setupInformation: z.record(z.string(), z.unknown()),
    secrets: z.record(z.string(), z.string()),
    version: z.string(),
    authConfigKey: z.string(),
    environment: z.string(),
    integrationId: z.string(),
  })
  .meta({
    examples: [
      {
        secureId: EXAMPLE.accountId,
        provider: 'bamboohr',
        setupInformation: { subdomain: 'acme' },
        secrets: { api_key: '__secretvalue:**redacted**4e1f' },
        version: '1',
        authConfigKey: 'api_key',
        environment: 'production',
        integrationId: EXAMPLE.integrationId,
      },
    ],
  });

export const hubAccountParams = z.object({ id: nonEmptyString(255) });
export const hubConnectorParams = z.object({
  integration_id: z.uuid({ error: 'must be an integration_id' }),
});
export const hubConnectorQuery = z.object({
  provider: z.string().max(100).optional(),
  /**
   * The hub's language for connector texts (en, de, fr, es). Explicit rather than Accept-Language so
   * StackOne's hub, which never sends it, keeps getting English whatever the browser's language.
   */
  lang: z
    .string()
    .max(20)
    .optional()
    .meta({ description: 'Language of connector texts: en (default), de, fr or es', examples: ['de'] }),
});
