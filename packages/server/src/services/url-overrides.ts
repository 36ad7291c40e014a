import type { AuthMethod } from '../connectors/auth-schema.ts';
import type { Connector } from '../connectors/schema.ts';
import { placeholdersOf } from '../connectors/templates.ts';
import { validationFailed } from '../errors.ts';
import {
  type AddressPolicy,
  BlockedAddressError,
  checkUrl,
  InvalidUrlError,
} from '../outbound/address-policy.ts';

export type UrlOverrides = Partial<Record<'api_base_url' | 'authorization_url' | 'token_url', string>>;

/**
 * Configuration-time check of an auth config's URL overrides, so a bad one is refused with a 400 naming
 * the field instead of failing (or reaching somewhere it must not) later: every {{placeholder}} must be a
 * field of the auth method, and a host that is fixed must not resolve into a range the operator has not
 * opened. Hosts filled from a field are judged when they are called (the outbound guard checks every
 * connection), since their value is not known yet.
 */
export async function checkUrlOverrides(
  connector: Connector,
  method: AuthMethod,
  urls: UrlOverrides | null | undefined,
  policy: AddressPolicy,
): Promise<void> {
  const problems: string[] = [];
  const fields = method.fields.map((f) => f.key);
  for (const [name, template] of Object.entries(urls ?? {})) {
    if (template === undefined) continue;
    const field = `body.urls.${name}`;
    const unknown = placeholdersOf(template).filter((p) => !fields.includes(p));
    if (unknown.length) {
      problems.push(
        `${field}: uses {{${unknown.join('}}, {{')}}}, but ${connector.name}'s "${method.key}" method ` +
          (fields.length ? `only has the fields ${fields.join(', ')}` : 'has no fields to fill it'),
      );
      continue;
    }
    if (placeholdersOf(hostPart(template)).length) continue;
    try {
      await checkUrl(template.replace(/\{\{[^}]*\}\}/g, 'x'), policy, field);
    } catch (err) {
      if (err instanceof BlockedAddressError || err instanceof InvalidUrlError) {
        problems.push(`${field}: ${err.message}`);
      } else throw err;
    }
  }
  if (problems.length) throw validationFailed(`Invalid URL override: ${problems.join('; ')}`, problems);
}

/** scheme://host[:port] of a template, placeholders kept, for "is the host fixed?" */
function hostPart(template: string): string {
  const match = /^[a-z]+:\/\/[^/?#]*/i.exec(template);
  return match ? match[0] : template;
}
