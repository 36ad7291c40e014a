import { z } from 'zod';
import { nonEmptyString, storableString } from './common.ts';

/** RFC 9110 token characters, and what a header value may carry. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

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
    headers: z
      .record(
        nonEmptyString(200).regex(
          HEADER_NAME,
          "must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)",
        ),
        z
          .string()
          .max(8192)
          .regex(HEADER_VALUE, 'must be Latin-1 text without line breaks or NUL, as HTTP header values are'),
      )
      .nullish(),
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
