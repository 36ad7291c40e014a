import { z } from 'zod';

/**
 * Building blocks shared by every wire schema. Strings that reach PostgreSQL must not contain NUL
 * (text and jsonb reject it) or lone UTF-16 surrogates (jsonb rejects them): both are refused here
 * with a 400 instead of surfacing as a database error.
 */
export function isStorableString(value: string): boolean {
  return !value.includes('\u0000') && value.isWellFormed();
}

export const storableString = (max: number) =>
  z
    .string()
    .max(max)
    .refine(isStorableString, { message: 'must not contain NUL characters or unpaired surrogates' });

export const nonEmptyString = (max: number) =>
  storableString(max).refine((v) => v.trim().length > 0, {
    message: 'must not be empty',
  });

const MAX_METADATA_DEPTH = 8;

function metadataProblem(value: unknown, depth: number): string | undefined {
  if (depth > MAX_METADATA_DEPTH) return `must not nest deeper than ${MAX_METADATA_DEPTH} levels`;
  if (typeof value === 'string')
    return isStorableString(value) ? undefined : 'contains a NUL character or unpaired surrogate';
  if (Array.isArray(value)) {
    for (const item of value) {
      const p = metadataProblem(item, depth + 1);
      if (p) return p;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (!isStorableString(k)) return 'has a key with a NUL character or unpaired surrogate';
      const p = metadataProblem(v, depth + 1);
      if (p) return p;
    }
  }
  return undefined;
}

/** Free-form JSON object owned by the integrator; stored as jsonb and returned unchanged. */
export const metadataObject = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = metadataProblem(value, 0);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * An enum that accepts the spellings found in documentation (camelCase, UPPER_CASE, kebab-case) and
 * always yields the wire form: "hrisLegacy", "HRIS_LEGACY" and "hris-legacy" all become "hris-legacy".
 */
export function lenientEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const squash = (v: string) => v.replace(/[-_\s]/g, '').toLowerCase();
  const byKey = new Map(values.map((v) => [squash(v), v]));
  return (
    z
      .string()
      // The request documentation shows this input side, a plain string: list the values there.
      .meta({
        description: `One of: ${values.join(', ')} (camelCase, UPPER_CASE and snake_case spellings are accepted and normalised).`,
        examples: [values[0]],
      })
      .transform((v) => byKey.get(squash(v)) ?? v)
      .pipe(z.enum(values, { error: () => `must be one of: ${values.join(', ')}` }))
  );
}

export const CATEGORIES = [
  'ats',
  'hris',
  'hris-legacy',
  'crm',
  'iam',
  'marketing',
  'lms',
  'stackone',
  'documents',
  'ticketing',
  'screening',
  'messaging',
  'accounting',
  'scheduling',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const ACCOUNT_TYPES = ['production', 'test'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

/** ISO 8601 date-time with offset, as the SDK's schemas demand. */
export const isoDateTime = z.iso.datetime({ offset: true });

/** The error body every endpoint uses: { statusCode, message, timestamp } (+ errors on validation). */
export const errorResponse = z
  .object({
    statusCode: z.number().int(),
    message: z.string(),
    timestamp: isoDateTime,
    errors: z.array(z.string()).optional(),
    provider_response: z.string().optional(),
    /** On 409 "needs reconnecting": why the account stopped working. */
    status_reasons: z
      .array(z.object({ code: z.string(), description: z.string(), timestamp: z.string() }))
      .nullable()
      .optional(),
  })
  .meta({ id: 'Error' });

/** Standard error responses, to spread into a route's response map so they are documented too. */
export const errorResponses = {
  400: errorResponse,
  401: errorResponse,
  404: errorResponse,
  409: errorResponse,
  429: errorResponse,
};

/** page / page_size query parameters shared by list endpoints (page is 1-based). */
export const pagination = {
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  page_size: z.coerce.number().int().min(1).max(1000).default(25),
};

/** A query parameter sent either once or as repeated keys (?a=1&a=2); always an array after parsing. */
export const repeatable = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(item).max(500).optional());

/** Query booleans arrive as strings. */
export const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export { httpUrl };
