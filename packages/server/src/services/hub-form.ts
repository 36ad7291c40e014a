import { type Field, isSecretField } from '../connectors/auth-schema.ts';
import { validationFailed } from '../errors.ts';

/** StackOne's hub shows stored secrets as this prefix + last characters, and sends it back untouched. */
export const SECRET_MASK_PREFIX = '__secretvalue:**redacted**';

export function maskSecret(value: string): string {
  // Short secrets would be mostly revealed by their last four characters: show none of them.
  return SECRET_MASK_PREFIX + (value.length >= 12 ? value.slice(-4) : '');
}

export interface SplitValues {
  /** Secret fields: stored encrypted. */
  secrets: Record<string, string>;
  /** Non-secret fields (subdomain, region…): stored in clear as setup_information. */
  settings: Record<string, string>;
}

/**
 * Checks form values against a connector's fields (unknown keys, required, number, select, pattern)
 * and splits them into secrets and settings. `stored` fills in what a re-connect left out, and masked
 * values sent back by the hub mean "keep the stored secret".
 */
export function validateFormValues(
  fields: Field[],
  input: Record<string, string | number | boolean>,
  stored?: SplitValues,
): SplitValues {
  const problems: string[] = [];
  const known = new Set(fields.map((f) => f.key));
  for (const key of Object.keys(input)) {
    if (!known.has(key))
      problems.push(
        `credentials.${key}: unknown field (expected one of: ${[...known].join(', ') || 'none'})`,
      );
  }
  const result: SplitValues = { secrets: {}, settings: {} };
  for (const field of fields) {
    const secret = isSecretField(field);
    const storedValue = stored ? (secret ? stored.secrets : stored.settings)[field.key] : undefined;
    const raw = input[field.key];
    let value = raw === undefined || raw === null ? undefined : String(raw);
    if (value?.startsWith(SECRET_MASK_PREFIX) || (value === undefined && storedValue !== undefined))
      value = storedValue;
    if (value === undefined || value.trim() === '') {
      if (field.required) problems.push(`credentials.${field.key}: ${field.label} is required`);
      continue;
    }
    if (value.includes('\u0000') || !value.isWellFormed()) {
      problems.push(`credentials.${field.key}: contains characters that are not allowed`);
      continue;
    }
    if (field.type === 'number' && !Number.isFinite(Number(value))) {
      problems.push(`credentials.${field.key}: ${field.label} must be a number`);
    }
    if (field.type === 'select' && field.options && !field.options.some((o) => o.value === value)) {
      problems.push(
        `credentials.${field.key}: must be one of ${field.options.map((o) => o.value).join(', ')}`,
      );
    }
    if (field.validation && !new RegExp(field.validation.pattern).test(value)) {
      problems.push(`credentials.${field.key}: ${field.validation.message}`);
    }
    (secret ? result.secrets : result.settings)[field.key] = value;
  }
  if (problems.length) throw validationFailed(`Invalid credentials: ${problems.join('; ')}`, problems);
  return result;
}
