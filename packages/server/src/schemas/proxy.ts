import { z } from 'zod';
import { nonEmptyString, storableString } from './common.ts';

export const PROXY_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** StackOne's ProxyRequestBody: what to call on the provider, relative to the account's API base URL. */
export const proxyRequestBody = z
  .strictObject({
    /** The provider API base URL; only the account's own API host is accepted (its path may differ). */
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .nullish(),
    path: storableString(4096).nullish(),
    method: z
      .string()
      .transform((m) => m.toLowerCase())
      .pipe(z.enum(PROXY_METHODS, { error: `must be one of ${PROXY_METHODS.join(', ')}` }))
      .nullish(),
    headers: z.record(nonEmptyString(200), z.string().max(8192)).nullish(),
    body: z.unknown().optional(),
  })
  .meta({
    id: 'ProxyRequestBody',
    examples: [{ path: '/employees/directory', method: 'get', headers: { accept: 'application/json' } }],
  });
export type ProxyRequestBody = z.output<typeof proxyRequestBody>;

export const proxyHeaders = z.object({
  'x-account-id': nonEmptyString(255),
});
