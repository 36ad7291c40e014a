import { z } from 'zod';
import {
  ACCOUNT_TYPES,
  CATEGORIES,
  isoDateTime,
  lenientEnum,
  metadataObject,
  nonEmptyString,
  storableString,
} from './common.ts';
import { hubAttemptFields } from './connection-attempts.ts';
import { connectSessionExample, EXAMPLE } from './examples.ts';

export const MAX_EXPIRES_IN = 7 * 24 * 3600;
export const DEFAULT_EXPIRES_IN = 1800;

const providerKey = storableString(100).regex(
  /^[a-z0-9][a-z0-9_.-]*$/i,
  'must be a connector key such as "bamboohr" (letters, digits, "-", "_", ".")',
);

/**
 * POST /connect_sessions body. Nullable everywhere the SDK may send null; unknown keys are refused so
 * a typo (say "categorie") is reported instead of silently ignored.
 */
export const connectSessionCreate = z
  .strictObject({
    origin_owner_id: nonEmptyString(255),
    origin_owner_name: nonEmptyString(255),
    origin_username: storableString(255).nullish(),
    categories: z
      .array(lenientEnum(CATEGORIES))
      .max(CATEGORIES.length * 2)
      .nullish(),
    provider: providerKey.nullish(),
    provider_version: storableString(50).nullish(),
    integration_id: z.uuid({ error: 'must be a UUID (the id of an auth config)' }).nullish(),
    account_id: nonEmptyString(255).nullish(),
    label: storableString(255).nullish(),
    metadata: metadataObject.nullish(),
    type: lenientEnum(ACCOUNT_TYPES).nullish(),
    multiple: z.boolean().nullish(),
    /** Beyond the reference: browser origins allowed to use the token on /hub/* (e.g. https://app.example.com). */
    allowed_origins: z
      .array(
        z
          .url({ protocol: /^https?$/, error: 'must be an origin such as https://app.example.com' })
          .transform((u) => new URL(u).origin),
      )
      .max(20)
      .nullish(),
    /**
     * Beyond the reference: where the webhook events this session causes go instead of the endpoints'
     * URLs (their event filters and signing secrets still apply).
     */
    webhook_url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://api.example.com/hooks' })
      .max(2048)
      .nullish(),
    expires_in: z
      .number()
      .int('must be a whole number of seconds')
      .min(1)
      .max(MAX_EXPIRES_IN, `must be at most ${MAX_EXPIRES_IN} seconds (7 days)`)
      .nullish(),
  })
  .meta({
    id: 'ConnectSessionCreate',
    examples: [
      {
        origin_owner_id: 'customer-42',
        origin_owner_name: 'Acme Inc',
        origin_username: 'jane.doe@acme.example',
        categories: ['hris'],
        label: 'Acme HR',
        metadata: { plan: 'enterprise' },
        allowed_origins: ['https://app.acme-saas.example'],
        expires_in: 1800,
      },
    ],
  });
export type ConnectSessionCreate = z.output<typeof connectSessionCreate>;

const connectSessionFields = {
  id: z.number().int(),
  organization_id: z.number().int(),
  project_id: z.string(),
  origin_owner_id: z.string(),
  origin_owner_name: z.string(),
  origin_username: z.string().nullable(),
  account_id: z.string().nullable(),
  categories: z.array(z.enum(CATEGORIES)).nullable(),
  provider: z.string().nullable(),
  integration_id: z.string().nullable(),
  label: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  type: z.enum(ACCOUNT_TYPES).nullable(),
  external_trigger_token: z.string().nullable(),
  allowed_origins: z.array(z.string()).nullable().optional(),
  created_at: isoDateTime,
};

export const connectSession = z
  .object({
    ...connectSessionFields,
    /** Beyond the reference: the newest connection attempt made with this session, if any. */
    latest_connection_attempt: z.object(hubAttemptFields).nullable().optional(),
  })
  .meta({
    id: 'ConnectSession',
    examples: [
      {
        ...connectSessionExample,
        latest_connection_attempt: { id: EXAMPLE.attemptId, status: 'pending', account: null, error: null },
      },
    ],
  });
export type ConnectSession = z.output<typeof connectSession>;

export const connectSessionTokenAuthLink = z
  .object({ ...connectSessionFields, token: z.string(), auth_link_url: z.string() })
  .meta({
    id: 'ConnectSessionTokenAuthLink',
    examples: [
      {
        ...connectSessionExample,
        token: EXAMPLE.sessionToken,
        auth_link_url: `${EXAMPLE.publicUrl}/embedded/integrations?token=${EXAMPLE.sessionToken}`,
      },
    ],
  });
export type ConnectSessionTokenAuthLink = z.output<typeof connectSessionTokenAuthLink>;

export const connectSessionAuthenticate = z
  .strictObject({ token: z.string().min(1).max(512) })
  .meta({ id: 'ConnectSessionAuthenticate', examples: [{ token: EXAMPLE.sessionToken }] });

// Decimal digits only: Number() coercion would also take "0x10", "1e3" or " 7 " as ids.
export const sessionIdParams = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a numeric connect session id')
    .transform(Number),
});
