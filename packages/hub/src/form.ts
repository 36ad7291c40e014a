import type { HubField } from './api.ts';
import type { Translate } from './i18n/index.ts';

/** Stored secrets come back masked like this; sending the mask back means "keep the stored value". */
export const SECRET_MASK = /^__secretvalue:\*\*redacted\*\*(.*)$/;

export const isMasked = (value: unknown): value is string =>
  typeof value === 'string' && SECRET_MASK.test(value);

/** The readable form of a masked secret: dots plus the last characters the server chose to show. */
export function displayMasked(value: string): string {
  return `••••••••${value.match(SECRET_MASK)?.[1] ?? ''}`;
}

export const isSecret = (field: HubField) => field.type === 'password' || field.secret !== false;

/** The first problem with a value, in the user's language, or undefined when it is acceptable. */
export function fieldError(field: HubField, value: string, t: Translate): string | undefined {
  const empty = value.trim() === '';
  if (empty) return field.required ? t('error.required', { label: field.label }) : undefined;
  if (field.type === 'number' && !/^-?\d+(\.\d+)?$/.test(value.trim())) return t('error.number');
  if (field.type === 'select' && field.options && !field.options.some((o) => o.value === value))
    return t('error.select');
  if (field.validation?.pattern) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(field.validation.pattern);
    } catch {
      re = undefined;
    }
    if (re && !re.test(value))
      return field.validation.error || field.validation.message || t('error.pattern');
  }
  return undefined;
}

export function validateAll(
  fields: HubField[],
  values: Record<string, string>,
  t: Translate,
  keep: Set<string>,
) {
  const errors: Record<string, string> = {};
  for (const field of fields) {
    if (keep.has(field.key)) continue;
    const problem = fieldError(field, values[field.key] ?? '', t);
    if (problem) errors[field.key] = problem;
  }
  return errors;
}

/**
 * The credentials to send. In edit mode secrets the user did not change are left out, so the server
 * keeps what it has; read-only fields are server-provided and sent as they are.
 */
export function credentialsToSend(fields: HubField[], values: Record<string, string>, keep: Set<string>) {
  const out: Record<string, string> = {};
  for (const field of fields) {
    if (keep.has(field.key)) continue;
    const value = values[field.key];
    if (value !== undefined && value !== '') out[field.key] = value;
  }
  return out;
}
