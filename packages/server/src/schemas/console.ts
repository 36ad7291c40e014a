import { z } from 'zod';
import { isoDateTime, nonEmptyString, storableString } from './common.ts';

/** Wire shapes of the console API (/console/api/*), which the console SPA calls with its session cookie. */
export const signInBody = z.strictObject({
  email: nonEmptyString(320),
  password: z.string().min(1).max(1024),
});

export const operator = z.object({
  id: z.string(),
  email: z.string(),
  must_change_password: z.boolean(),
  created_at: isoDateTime,
  password_changed_at: isoDateTime.nullable(),
});

export const sessionInfo = z.object({ operator, csrf_token: z.string() });

export const passwordChangeBody = z.strictObject({
  current_password: z.string().min(1).max(1024),
  new_password: z.string().min(1).max(1024),
});

export const projectParams = z.object({ projectId: storableString(100) });
export const keyParams = z.object({ projectId: storableString(100), keyId: storableString(100) });

export const projectCreateBody = z.strictObject({ name: nonEmptyString(255) });
export const apiKeyCreateBody = z.strictObject({ name: nonEmptyString(255).optional() });

export const project = z.object({
  project_id: z.string(),
  organization_id: z.number().int(),
  name: z.string(),
  created_at: isoDateTime,
});

export const apiKeyInfo = z.object({
  id: z.string(),
  project_id: z.string(),
  name: z.string().nullable(),
  hint: z.string(),
  created_at: isoDateTime,
  revoked_at: isoDateTime.nullable(),
});
