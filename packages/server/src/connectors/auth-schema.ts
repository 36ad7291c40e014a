import { z } from 'zod';

/**
 * The auth methods of a connector file: the form fields an end user fills in, and how the resulting
 * credentials are attached to provider API calls. Rules spanning the whole file are in schema.ts.
 */

/** A form field's key (also what an inbound signature's secret_field names). */
export const fieldKey = z.string().regex(/^[a-z0-9_-]+$/i, 'must be letters, digits, "_" or "-"');

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

export const FIELD_TYPES = ['text', 'password', 'number', 'select', 'text_area'] as const;

export const fieldSchema = z.strictObject({
  key: fieldKey,
  label: z.string().min(1),
  type: z.enum(FIELD_TYPES),
  required: z.boolean(),
  /** Secret unless explicitly false; password fields are always secret (see isSecretField). */
  secret: z.boolean().optional(),
  placeholder: z.string().optional(),
  description: z.string().optional(),
  /** The choices of a select field (and only of one). */
  options: z
    .array(z.strictObject({ label: z.string().min(1), value: z.string() }))
    .min(1)
    .optional(),
  validation: z.strictObject({ pattern: validPattern, message: z.string().min(1) }).optional(),
  read_only: z.boolean().optional(),
});
export type Field = z.output<typeof fieldSchema>;

/**
 * DESIGN §2: a field is secret unless `secret === false`, and always when it is a password. Secret
 * fields are credentials (encrypted, masked); the others are settings such as a subdomain or region.
 */
export function isSecretField(field: Pick<Field, 'secret' | 'type'>): boolean {
  return field.type === 'password' || field.secret !== false;
}

/**
 * How credentials are attached to provider API calls (the credential check and the proxy). Values are
 * {{placeholder}} templates over the method's fields, plus {{access_token}} for OAuth2 methods.
 */
const applySchema = z.strictObject({
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'), z.string()).optional(),
  query: z.record(z.string().min(1), z.string()).optional(),
  basic: z.strictObject({ username: z.string(), password: z.string() }).optional(),
});
export type Apply = z.output<typeof applySchema>;

const methodBase = {
  key: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "_" or "-"'),
  label: z.string().min(1),
  fields: z.array(fieldSchema),
  apply: applySchema,
};

const customMethod = z.strictObject({ ...methodBase, type: z.literal('custom') });

const oauth2Method = z.strictObject({
  ...methodBase,
  type: z.literal('oauth2'),
  grant_type: z.enum(['authorization_code', 'client_credentials']),
  /** Required for authorization_code. May contain {{field}} placeholders (e.g. a tenant host). */
  authorization_url: z.string().optional(),
  token_url: z.string().min(1),
  scopes: z.array(z.string().min(1)),
  /** How scopes are joined in the request; default " ". */
  scope_separator: z.string().min(1).optional(),
  /** Send a PKCE S256 challenge; default true. */
  pkce: z.boolean().optional(),
  /** How the client authenticates at the token endpoint; default client_secret_post. */
  token_endpoint_auth: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  /** Extra authorization-request parameters, e.g. access_type=offline for Google. */
  authorize_params: z.record(z.string(), z.string()).optional(),
});

export const authMethodSchema = z.discriminatedUnion('type', [customMethod, oauth2Method]);
export type AuthMethod = z.output<typeof authMethodSchema>;
export type OAuth2Method = Extract<AuthMethod, { type: 'oauth2' }>;

/** A broken rule in a connector file, reported by the catalogue with the path to the offending value. */
export interface Problem {
  path: (string | number)[];
  message: string;
}

/** Rules across one auth method's fields: unique keys, options only on selects, passwords secret. */
export function fieldProblems(
  method: AuthMethod,
  at: (...rest: (string | number)[]) => (string | number)[],
): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  method.fields.forEach((field, f) => {
    if (seen.has(field.key))
      problems.push({ path: at('fields', f, 'key'), message: `duplicate field key "${field.key}"` });
    seen.add(field.key);
    if (field.type === 'select' && !field.options) {
      problems.push({ path: at('fields', f, 'options'), message: 'select fields need options' });
    }
    if (field.type !== 'select' && field.options) {
      problems.push({ path: at('fields', f, 'options'), message: 'only select fields have options' });
    }
    if (field.type === 'password' && field.secret === false) {
      problems.push({
        path: at('fields', f, 'secret'),
        message: 'password fields are always secret; remove "secret": false',
      });
    }
  });
  return problems;
}
