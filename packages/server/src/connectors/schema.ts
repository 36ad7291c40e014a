import { z } from 'zod';
import { CATEGORIES } from '../schemas/common.ts';

/**
 * The shape of a connector file (connectors/<key>.json). Connectors are data: everything Plugboard
 * needs to show a provider, collect its credentials, check them and call its API is declared here.
 */

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_-]+)\s*\}\}/g;

export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/**
 * Replaces {{key}} placeholders with values. `encode` URL-encodes each value (for URLs and paths, so a
 * subdomain cannot smuggle a "/" or "@" into the host part). A missing value is an error, not "".
 */
export function fillTemplate(
  template: string,
  values: Record<string, string>,
  options: { encode?: boolean } = {},
): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`No value for {{${key}}}`);
    return options.encode ? encodeURIComponent(value) : value;
  });
}

const fieldKey = z.string().regex(/^[a-z0-9_-]+$/i, 'must be letters, digits, "_" or "-"');

const validPattern = z.string().refine(
  (p) => {
    try {
      new RegExp(p);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a valid regular expression' },
);

export const fieldSchema = z
  .strictObject({
    key: fieldKey,
    label: z.string().min(1),
    type: z.enum(['text', 'password', 'number', 'select', 'text_area']),
    required: z.boolean(),
    /** Secret unless explicitly false; password fields are always secret. */
    secret: z.boolean().optional(),
    placeholder: z.string().optional(),
    description: z.string().optional(),
    options: z
      .array(z.strictObject({ label: z.string(), value: z.string() }))
      .min(1)
      .optional(),
    validation: z.strictObject({ pattern: validPattern, message: z.string().min(1) }).optional(),
    read_only: z.boolean().optional(),
  })
  .refine((f) => f.type !== 'select' || f.options, { message: 'select fields need options' });
export type Field = z.output<typeof fieldSchema>;

export function isSecretField(field: Pick<Field, 'secret' | 'type'>): boolean {
  return field.type === 'password' || field.secret !== false;
}

/** How credentials are attached to provider API calls; values are {{placeholder}} templates. */
const applySchema = z.strictObject({
  headers: z.record(z.string(), z.string()).optional(),
  query: z.record(z.string(), z.string()).optional(),
  basic: z.strictObject({ username: z.string(), password: z.string() }).optional(),
});

const methodBase = {
  key: z.string().regex(/^[a-z0-9_-]+$/),
  label: z.string().min(1),
  fields: z.array(fieldSchema),
  apply: applySchema,
};

const customMethod = z.strictObject({ ...methodBase, type: z.literal('custom') });

const oauth2Method = z
  .strictObject({
    ...methodBase,
    type: z.literal('oauth2'),
    grant_type: z.enum(['authorization_code', 'client_credentials']),
    authorization_url: z.string().optional(),
    token_url: z.string().min(1),
    scopes: z.array(z.string()),
    scope_separator: z.string().optional(),
    pkce: z.boolean().optional(),
    token_endpoint_auth: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
    authorize_params: z.record(z.string(), z.string()).optional(),
  })
  .refine((m) => m.grant_type !== 'authorization_code' || m.authorization_url, {
    message: 'authorization_code methods need an authorization_url',
  });

export const authMethodSchema = z.union([customMethod, oauth2Method]);
export type AuthMethod = z.output<typeof authMethodSchema>;

export const connectorSchema = z
  .strictObject({
    key: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
    name: z.string().min(1),
    /** The first is the primary category. */
    categories: z.array(z.enum(CATEGORIES)).min(1),
    release_stage: z.enum(['ga', 'beta', 'preview']),
    /** A simple-icons slug; without one the logo is a generated monogram. */
    logo: z.strictObject({ simple_icon: z.string().optional() }).optional(),
    support: z.strictObject({ link: z.url(), description: z.string() }).optional(),
    api_base_url: z.string().min(1),
    auth: z.array(authMethodSchema).min(1),
    /** A cheap authenticated request that succeeds only with valid credentials. */
    check: z
      .strictObject({
        method: z.enum(['GET', 'POST']),
        path: z.string(),
        expect_status: z.array(z.number().int()).optional(),
      })
      .optional(),
    notices: z.array(z.string()).optional(),
  })
  .superRefine((connector, ctx) => {
    const keys = new Set<string>();
    for (const method of connector.auth) {
      if (keys.has(method.key))
        ctx.addIssue({ code: 'custom', message: `duplicate auth method key "${method.key}"` });
      keys.add(method.key);
      const known = new Set(method.fields.map((f) => f.key));
      if (known.size !== method.fields.length) {
        ctx.addIssue({ code: 'custom', message: `auth method "${method.key}" has duplicate field keys` });
      }
      if (method.type === 'oauth2') known.add('access_token');
      const templates = [
        connector.api_base_url,
        connector.check?.path ?? '',
        ...Object.values(method.apply.headers ?? {}),
        ...Object.values(method.apply.query ?? {}),
        ...(method.apply.basic ? [method.apply.basic.username, method.apply.basic.password] : []),
      ];
      for (const name of templates.flatMap(placeholdersOf)) {
        if (!known.has(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `auth method "${method.key}" uses {{${name}}} but has no such field`,
          });
        }
      }
    }
  });
export type Connector = z.output<typeof connectorSchema>;
