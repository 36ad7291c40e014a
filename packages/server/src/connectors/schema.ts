import { z } from 'zod';
import { DomainError } from '../errors.ts';
import { CATEGORIES } from '../schemas/common.ts';

/**
 * The shape of a connector file (connectors/<key>.json). Connectors are data: everything Plugboard
 * needs to show a provider, collect its credentials, check them and call its API is declared here,
 * and a file that breaks a rule below stops the catalogue from loading (see catalogue.ts).
 */

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_-]+)\s*\}\}/g;

/** The keys a template refers to, e.g. ["subdomain"] for "https://{{subdomain}}.example.com". */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

export interface FillOptions {
  /**
   * URL-encode each value: use it for URLs and paths (api_base_url, check.path, OAuth endpoints), so
   * that a subdomain cannot smuggle "/", "@" or "?" into the host or path. Header, query and basic-auth
   * templates are filled raw (the HTTP client encodes query values itself).
   */
  encode?: boolean;
}

/** Replaces {{key}} placeholders with values. A missing value is an error, never "". */
export function fillTemplate(
  template: string,
  values: Record<string, string>,
  options: FillOptions = {},
): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    const value = Object.hasOwn(values, key) ? values[key] : undefined;
    if (value === undefined) {
      // Data saved under an older connector file (or an override naming a field the method lacks).
      throw new DomainError(
        'unprocessable',
        `This connection has no value for {{${key}}}; reconnect the account or fix the auth config's URLs.`,
      );
    }
    return options.encode ? encodeURIComponent(value) : value;
  });
}

/** fillTemplate for URLs and paths: every value is URL-encoded. */
export const fillUrlTemplate = (template: string, values: Record<string, string>): string =>
  fillTemplate(template, values, { encode: true });

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

const checkSchema = z.strictObject({
  method: z.enum(['GET', 'POST']),
  /** Appended to api_base_url; may contain placeholders. */
  path: z.string().regex(/^\//, 'must start with "/"'),
  /** Statuses that mean "credentials accepted"; default any 2xx. */
  expect_status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  /**
   * A JSON body to send (as application/json) with a POST check; needed by GraphQL-only providers
   * such as Linear, whose cheapest authenticated call is a query.
   */
  body: z.record(z.string(), z.unknown()).optional(),
  /**
   * Top-level JSON fields the answer must also carry, for providers that report a bad credential in
   * a 200 body, e.g. Slack's { "ok": false }: { "ok": true } makes such an answer a rejection.
   */
  expect_json: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
export type CredentialCheck = z.output<typeof checkSchema>;

const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name');

/** What a signed payload may be built from: the timestamp header's value and the raw body bytes. */
export const SIGNATURE_PAYLOAD_PARTS = ['timestamp', 'body'] as const;

/**
 * How a provider signs the events it posts to /webhooks/inbound/{external_trigger_token}: an HMAC of
 * the raw body (or of a template over the body and a timestamp header) keyed with a secret the end
 * user enters in the connect form. Declared only from the provider's own documentation.
 */
const signatureSchema = z.strictObject({
  /** The request header carrying the signature, e.g. "X-Hub-Signature-256". */
  header: headerName,
  algorithm: z.enum(['sha256', 'sha1']),
  encoding: z.enum(['hex', 'base64']),
  /** Text before the digest in the header, e.g. "sha256=". */
  prefix: z.string().min(1).optional(),
  /** The secret field of the auth method(s) holding the signing secret. */
  secret_field: fieldKey,
  /** What is signed; default "{{body}}". Placeholders: {{timestamp}} (the timestamp header) and {{body}}. */
  payload: z.string().min(1).optional(),
  /** The header with the signed timestamp (unix seconds, milliseconds or an ISO date). */
  timestamp_header: headerName.optional(),
  /** How far the signed timestamp may be from now; default 300 when a timestamp is signed. */
  tolerance_seconds: z.number().int().min(1).max(86_400).optional(),
});
export type InboundSignature = z.output<typeof signatureSchema>;

/** Headers never forwarded to the integrator, whatever a connector file asks: they carry credentials. */
export const NEVER_FORWARDED_HEADERS = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key)$/i;

const inboundSchema = z.strictObject({
  /** Without it, events are forwarded unverified (the unguessable token is the only protection). */
  signature: signatureSchema.optional(),
  /** Provider headers worth forwarding besides content-type and user-agent, e.g. the event name. */
  forward_headers: z.array(headerName).max(20).optional(),
});

/** Hub languages besides English that connector files may carry texts for. */
export const TRANSLATED_LANGUAGES = ['de', 'fr', 'es'] as const;

/** One language's texts: anything left out falls back to the English in the file. */
const translationSchema = z.strictObject({
  name: z.string().min(1).optional(),
  notices: z.array(z.string().min(1)).optional(),
  support_description: z.string().min(1).optional(),
  /** Auth method labels by method key. */
  auth_labels: z.record(z.string(), z.string().min(1)).optional(),
  /** Field texts by field key (the same key means the same field in every auth method). */
  fields: z
    .record(
      z.string(),
      z.strictObject({
        label: z.string().min(1).optional(),
        description: z.string().min(1).optional(),
        placeholder: z.string().min(1).optional(),
        /** Select option labels by option value. */
        options: z.record(z.string(), z.string().min(1)).optional(),
        validation_message: z.string().min(1).optional(),
      }),
    )
    .optional(),
});

export const connectorSchema = z
  .strictObject({
    key: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "_" or "-"'),
    /** The product's real name, e.g. "BambooHR". */
    name: z.string().min(1),
    /** Non-empty; the first is the primary category. */
    categories: z.array(z.enum(CATEGORIES)).min(1),
    release_stage: z.enum(['ga', 'beta', 'preview']),
    /** A simple-icons slug; without one (or when the package lacks it) the logo is a monogram. */
    logo: z
      .strictObject({
        simple_icon: z
          .string()
          .regex(/^[a-z0-9_]+$/, 'must be a simple-icons slug')
          .optional(),
      })
      .optional(),
    support: z
      .strictObject({ link: z.url({ protocol: /^https$/ }), description: z.string().min(1) })
      .optional(),
    /** May contain {{field_key}} placeholders filled from the setup fields. */
    api_base_url: z.string().min(1),
    /** Non-empty; the first is the default. */
    auth: z.array(authMethodSchema).min(1),
    /** A cheap authenticated request that succeeds only with valid credentials. */
    check: checkSchema.optional(),
    /** Shown above the credential form. */
    notices: z.array(z.string().min(1)).optional(),
    /** The provider's API documentation page the facts in this file come from. */
    docs_url: z.url({ protocol: /^https$/ }),
    /** The provider's brand colour, e.g. "#73C41D" (tiles and monogram logos). */
    brand_color: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'must be a #RRGGBB colour')
      .optional(),
    /**
     * Facts in this file that could not be confirmed from public documentation, one sentence each
     * (e.g. "check.path: the cheapest authenticated endpoint is not documented"). Never guess silently.
     */
    unverified: z.array(z.string().min(1)).optional(),
    /** Events the provider posts to Plugboard (webhooks): how to verify them, what to pass on. */
    inbound: inboundSchema.optional(),
    /** Texts shown to end users, per hub language (en is the file itself). */
    translations: z.partialRecord(z.enum(TRANSLATED_LANGUAGES), translationSchema).optional(),
  })
  .superRefine((connector, ctx) => {
    for (const problem of connectorProblems(connector)) ctx.addIssue({ code: 'custom', ...problem });
  });
export type Connector = z.output<typeof connectorSchema>;

interface Problem {
  path: (string | number)[];
  message: string;
}

/** Rules that span fields: placeholders resolve, keys are unique, URLs are https, and so on. */
function connectorProblems(connector: z.output<typeof connectorSchema>): Problem[] {
  const problems: Problem[] = [];
  if (new Set(connector.categories).size !== connector.categories.length) {
    problems.push({ path: ['categories'], message: 'lists a category twice' });
  }
  problems.push(...urlProblems(connector.api_base_url, ['api_base_url']));
  const methodKeys = new Set<string>();
  connector.auth.forEach((method, m) => {
    const at = (...rest: (string | number)[]) => ['auth', m, ...rest];
    if (methodKeys.has(method.key))
      problems.push({ path: at('key'), message: `duplicate auth method key "${method.key}"` });
    methodKeys.add(method.key);
    problems.push(...fieldProblems(method, at));

    const fields = new Set(method.fields.map((f) => f.key));
    const known = method.type === 'oauth2' ? new Set([...fields, 'access_token']) : fields;
    const templates: [string, (string | number)[]][] = [
      [connector.api_base_url, ['api_base_url']],
      ...(connector.check
        ? [[connector.check.path, ['check', 'path']] as [string, (string | number)[]]]
        : []),
      ...Object.entries(method.apply.headers ?? {}).map(
        ([k, v]) => [v, at('apply', 'headers', k)] as [string, (string | number)[]],
      ),
      ...Object.entries(method.apply.query ?? {}).map(
        ([k, v]) => [v, at('apply', 'query', k)] as [string, (string | number)[]],
      ),
      ...(method.apply.basic
        ? ([
            [method.apply.basic.username, at('apply', 'basic', 'username')],
            [method.apply.basic.password, at('apply', 'basic', 'password')],
          ] as [string, (string | number)[]][])
        : []),
    ];
    for (const [template, path] of templates) {
      for (const name of placeholdersOf(template)) {
        if (!known.has(name)) {
          problems.push({
            path,
            message: `uses {{${name}}} but auth method "${method.key}" has no field "${name}"${method.type === 'oauth2' ? ' (OAuth2 methods also have {{access_token}})' : ''}`,
          });
        }
      }
    }
    if (!method.apply.headers && !method.apply.query && !method.apply.basic) {
      problems.push({
        path: at('apply'),
        message: 'says nothing about how credentials are sent (headers, query or basic)',
      });
    }

    if (method.type === 'custom') {
      if (!method.fields.some(isSecretField)) {
        problems.push({
          path: at('fields'),
          message: 'a custom method must collect at least one secret field',
        });
      }
      return;
    }
    // OAuth2: the endpoints are fetched before any token exists, so only fields can fill them.
    const endpoints: [string | undefined, string][] = [
      [method.authorization_url, 'authorization_url'],
      [method.token_url, 'token_url'],
    ];
    for (const [url, name] of endpoints) {
      if (url === undefined) continue;
      problems.push(...urlProblems(url, at(name)));
      for (const p of placeholdersOf(url)) {
        if (!fields.has(p))
          problems.push({
            path: at(name),
            message: `uses {{${p}}} but auth method "${method.key}" has no field "${p}"`,
          });
      }
    }
    if (method.grant_type === 'authorization_code' && !method.authorization_url) {
      problems.push({
        path: at('authorization_url'),
        message: 'authorization_code methods need an authorization_url',
      });
    }
    if (method.grant_type === 'client_credentials') {
      // The end customer's own client credentials are what this kind of method collects.
      for (const needed of ['client_id', 'client_secret']) {
        if (!fields.has(needed)) {
          problems.push({
            path: at('fields'),
            message: `client_credentials methods collect a "${needed}" field`,
          });
        }
      }
    }
    for (const reserved of ['access_token', 'refresh_token']) {
      if (fields.has(reserved)) {
        problems.push({
          path: at('fields'),
          message: `"${reserved}" is filled by the OAuth flow; it cannot be a form field`,
        });
      }
    }
  });
  if (connector.check?.body && connector.check.method !== 'POST') {
    problems.push({ path: ['check', 'body'], message: 'only a POST check can send a body' });
  }
  if (connector.inbound) problems.push(...inboundProblems(connector));
  return problems;
}

function inboundProblems(connector: z.output<typeof connectorSchema>): Problem[] {
  const problems: Problem[] = [];
  const signature = connector.inbound?.signature;
  for (const [i, name] of (connector.inbound?.forward_headers ?? []).entries()) {
    if (
      NEVER_FORWARDED_HEADERS.test(name) ||
      (signature && name.toLowerCase() === signature.header.toLowerCase())
    )
      problems.push({
        path: ['inbound', 'forward_headers', i],
        message: `"${name}" carries a credential or signature; it is never forwarded`,
      });
  }
  if (!signature) return problems;
  const at = (...rest: string[]) => ['inbound', 'signature', ...rest];
  const holders = connector.auth.filter((m) =>
    m.fields.some((f) => f.key === signature.secret_field && isSecretField(f)),
  );
  if (holders.length === 0) {
    problems.push({
      path: at('secret_field'),
      message: `no auth method has a secret field "${signature.secret_field}"; add one (type "password") for the signing secret`,
    });
  }
  const payload = signature.payload ?? '{{body}}';
  const parts = placeholdersOf(payload);
  for (const name of parts) {
    if (!(SIGNATURE_PAYLOAD_PARTS as readonly string[]).includes(name))
      problems.push({
        path: at('payload'),
        message: `uses {{${name}}}; only {{timestamp}} and {{body}} can be signed`,
      });
  }
  if (!parts.includes('body'))
    problems.push({ path: at('payload'), message: 'must contain {{body}}: an unsigned body proves nothing' });
  if (parts.includes('timestamp') && !signature.timestamp_header)
    problems.push({
      path: at('timestamp_header'),
      message: 'a payload with {{timestamp}} needs a timestamp_header',
    });
  if (signature.timestamp_header && !parts.includes('timestamp'))
    problems.push({
      path: at('payload'),
      message:
        'has a timestamp_header but does not sign {{timestamp}}; an unsigned timestamp cannot stop replays',
    });
  if (signature.tolerance_seconds !== undefined && !signature.timestamp_header)
    problems.push({ path: at('tolerance_seconds'), message: 'only applies with a signed timestamp_header' });
  return problems;
}

function fieldProblems(
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

/** Templates must become absolute https URLs once filled (tests override them per integration). */
function urlProblems(template: string, path: (string | number)[]): Problem[] {
  let url: URL;
  try {
    url = new URL(template.replace(PLACEHOLDER, 'x'));
  } catch {
    return [{ path, message: `"${template}" is not an absolute URL` }];
  }
  if (url.protocol !== 'https:') return [{ path, message: `"${template}" must use https` }];
  return [];
}
