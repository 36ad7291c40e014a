import { z } from 'zod';
import {
  ACCOUNT_TYPES,
  CATEGORIES,
  isoDateTime,
  isStorableString,
  lenientEnum,
  metadataObject,
  nonEmptyString,
  pagination,
  repeatable,
  storableString,
} from './common.ts';
import { EXAMPLE, linkedAccountExample } from './examples.ts';

export const ACCOUNT_STATUSES = ['active', 'inactive', 'suspended', 'archived', 'expired', 'error'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export const statusReason = z.object({ code: z.string(), description: z.string(), timestamp: isoDateTime });

export const linkedAccount = z
  .object({
    id: z.string(),
    provider: z.string(),
    provider_name: z.string().nullable(),
    status: z.enum(ACCOUNT_STATUSES),
    status_reasons: z.array(statusReason).nullable(),
    origin_owner_id: z.string(),
    origin_owner_name: z.string(),
    origin_username: z.string().nullable(),
    /** Never the secrets themselves: GET /accounts/{id}/credentials is the one place they leave. */
    credentials: z.record(z.string(), z.unknown()).nullable(),
    setup_information: z.record(z.string(), z.unknown()).nullable(),
    label: z.string().nullable(),
    type: z.enum(ACCOUNT_TYPES).nullable(),
    integration_id: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .meta({ id: 'LinkedAccount', examples: [linkedAccountExample] });
export type LinkedAccount = z.output<typeof linkedAccount>;

export const accountListQuery = z.object({
  origin_owner_id: storableString(255).optional(),
  origin_owner_ids: repeatable(storableString(255)),
  provider: storableString(100).optional(),
  providers: repeatable(storableString(100)),
  status: repeatable(lenientEnum(ACCOUNT_STATUSES)),
  account_ids: repeatable(storableString(255)),
  search: z
    .string()
    .max(200, { error: 'must be at most 200 characters: a part of an owner id or name is enough' })
    .refine(isStorableString, { message: 'must not contain NUL characters or unpaired surrogates' })
    .optional()
    .describe(
      'Beyond the reference: only accounts whose origin_owner_id or origin_owner_name contains this text, ignoring case. `%` and `_` match themselves (no wildcards). Combines with the other filters, page and cursor.',
    ),
  type: lenientEnum(ACCOUNT_TYPES)
    .optional()
    .describe(
      'Beyond the reference: only `production` or only `test` accounts (other spellings such as PRODUCTION are accepted).',
    ),
  ...pagination,
  cursor: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'must be a cursor from x-next-cursor or a Link rel="next" header' })
    .optional()
    .describe(
      'Beyond the reference: the x-next-cursor of the previous page (keyset paging). Replaces page: every page costs what the first does.',
    ),
});
export type AccountListQuery = z.output<typeof accountListQuery>;

export const accountIdParams = z.object({ id: nonEmptyString(255) });

/**
 * PATCH /accounts/{id} (StackOne's PatchAccountExternalDto). StackOne's SDK always sends `type` and
 * serialises `label` as an object, so an object label is read as "leave unchanged".
 */
export const accountPatch = z
  .strictObject({
    label: z.union([storableString(255), z.record(z.string(), z.unknown())]).nullish(),
    metadata: metadataObject.nullish(),
    origin_owner_id: nonEmptyString(255).nullish(),
    origin_owner_name: nonEmptyString(255).nullish(),
    origin_username: storableString(255).nullish(),
    type: lenientEnum(ACCOUNT_TYPES).nullish(),
    provider: storableString(100).nullish(),
    environment: storableString(50).nullish(),
    authentication_config_key: storableString(100).nullish(),
    credentials: z.record(z.string(), z.unknown()).nullish(),
    secrets: z.record(z.string(), z.unknown()).nullish(),
    setup_information: z.record(z.string(), z.unknown()).nullish(),
  })
  .meta({
    id: 'PatchAccountExternalDto',
    examples: [{ label: 'Acme HR (EU)', metadata: { plan: 'enterprise', region: 'eu' } }],
  });
export type AccountPatch = z.output<typeof accountPatch>;

export const accountMeta = z
  .object({
    provider: z.string(),
    category: z.enum(CATEGORIES),
    models: z.record(z.string(), z.unknown()),
  })
  .meta({ examples: [{ provider: 'bamboohr', category: 'hris', models: {} }] });

export const accountCredentials = z
  .object({
    id: z.string(),
    provider: z.string(),
    authentication_config_key: z.string().nullable(),
    credentials: z.record(z.string(), z.unknown()),
    setup_information: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({
    id: 'LinkedAccountCredentials',
    examples: [
      {
        id: EXAMPLE.accountId,
        provider: 'bamboohr',
        authentication_config_key: 'api_key',
        credentials: { api_key: '4f1b9c2e7a3d8e6f0b5c1a9d2e7f3b8c6a0d4e1f' },
        setup_information: { subdomain: 'acme' },
      },
    ],
  });

export const connectorsMeta = z
  .object({
    provider: z.string(),
    provider_name: z.string(),
    category: z.enum(CATEGORIES),
    models: z.record(z.string(), z.unknown()),
    active: z.boolean(),
    resources: z.object({ images: z.object({ logo_url: z.string() }) }),
  })
  .meta({
    id: 'ConnectorsMeta',
    examples: [
      {
        provider: 'bamboohr',
        provider_name: 'BambooHR',
        category: 'hris',
        models: {},
        active: true,
        resources: { images: { logo_url: `${EXAMPLE.publicUrl}/connectors/logos/bamboohr.svg` } },
      },
    ],
  });

const formValue = z.union([z.string(), z.number(), z.boolean()]);

/**
 * POST /accounts: an account brought in from elsewhere (another connect service, an own table of
 * tokens) with the credentials it already has, so its end user need not connect again.
 */
export const accountImport = z
  .strictObject({
    integration_id: z.uuid({ error: 'must be the id of an auth config (GET /auth_configs)' }),
    origin_owner_id: nonEmptyString(255),
    origin_owner_name: nonEmptyString(255),
    origin_username: storableString(255).nullish(),
    label: storableString(255).nullish(),
    metadata: metadataObject.nullish(),
    type: z.enum(ACCOUNT_TYPES).optional(),
    /** The account's id where it comes from: importing the same one again answers the existing account. */
    external_id: nonEmptyString(255).optional(),
    /** The auth method's form fields (API keys, settings such as a subdomain), as the hub's form takes them. */
    credentials: z.record(z.string(), formValue).default({}),
    /** For OAuth auth configs: the tokens the account already holds. */
    oauth: z
      .strictObject({
        access_token: nonEmptyString(10_000),
        refresh_token: nonEmptyString(10_000).optional(),
        token_type: storableString(50).optional(),
        expires_at: isoDateTime.optional(),
        expires_in: z.number().int().positive().optional(),
        scopes: z.array(storableString(500)).max(500).optional(),
      })
      .optional(),
    /** Ask the provider whether the credentials work before saving (off by default: imports are bulk). */
    check: z.boolean().default(false),
  })
  .meta({
    id: 'ImportAccountDto',
    examples: [
      {
        integration_id: '0c2f3a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
        origin_owner_id: 'customer-42',
        origin_owner_name: 'Acme Inc',
        external_id: 'nango-conn-8812',
        credentials: { subdomain: 'acme' },
        oauth: {
          access_token: 'ya29.a0AfH6SMB…',
          refresh_token: '1//0gLp…',
          expires_at: '2026-11-30T15:00:00.000Z',
          scopes: ['employees:read'],
        },
        check: false,
      },
    ],
  });
export type AccountImport = z.output<typeof accountImport>;
