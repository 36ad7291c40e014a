import { z } from 'zod';
import { CATEGORIES } from '../schemas/common.ts';
import { authMethodSchema, fieldProblems, isSecretField, type Problem } from './auth-schema.ts';
import { inboundProblems, inboundSchema } from './inbound-schema.ts';
import { PLACEHOLDER, placeholdersOf } from './templates.ts';
import { TRANSLATED_LANGUAGES, translationSchema } from './translations-schema.ts';

/**
 * The shape of a connector file (connectors/<key>.json). Connectors are data: everything Plugboard
 * needs to show a provider, collect its credentials, check them and call its API is declared in the
 * file, and a file that breaks a rule stops the catalogue from loading (see catalogue.ts). The parts
 * have their own files: auth methods and fields (auth-schema.ts), inbound events (inbound-schema.ts),
 * translations (translations-schema.ts) and {{placeholder}} templates (templates.ts); this file holds
 * the whole and the rules spanning its parts.
 */

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
