import { DomainError } from '../errors.ts';

/**
 * {{placeholder}} templates in connector files: URLs, paths, headers and query values that are
 * filled from an auth method's fields (and {{access_token}}) when a provider is called.
 */

export const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_-]+)\s*\}\}/g;

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
  // Most calls fill an already-filled base URL or a caller's path: no regex pass for those.
  if (!template.includes('{{')) return template;
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
