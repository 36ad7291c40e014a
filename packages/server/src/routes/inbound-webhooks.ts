import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { DomainError } from '../errors.ts';
import { errorResponse } from '../schemas/common.ts';
import { INBOUND_BODY_LIMIT, receiveProviderEvent } from '../services/inbound/provider-events.ts';

/** Failed tokens and signatures count in the app's failed-authentication throttle under this kind. */
const THROTTLE_KIND = 'inbound';

/**
 * Providers post their events (webhooks) here, to the URL the end user copied from the connect form.
 * No API key: the unguessable trigger token decides the account, and through it the project. Any
 * content type is accepted as raw bytes, because the provider's signature is over exactly those bytes.
 */
export const inboundWebhookRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  const deps = { db: ctx.db, vault: ctx.vault, catalogue: ctx.catalogue };
  // Scoped to this plugin: the rest of the API keeps its JSON-only parsers.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: INBOUND_BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );
  const tokenOf = (request: { params: unknown }) =>
    String((request.params as { token?: unknown }).token ?? '');
  // Before the body is read and before any lookup: a blocked address or token costs nothing more.
  app.addHook('onRequest', async (request) =>
    app.authThrottle.check(request, THROTTLE_KIND, tokenOf(request)),
  );

  app.post(
    '/webhooks/inbound/:token',
    {
      bodyLimit: INBOUND_BODY_LIMIT,
      config: {
        rateLimit: {
          // One bucket per trigger URL, not per address: a provider posts every customer's events from
          // the same few addresses. Made-up tokens cannot multiply buckets: they fail, and failures are
          // throttled per address above.
          keyGenerator: (request) =>
            `inbound:${createHash('sha256').update(tokenOf(request)).digest('base64url')}`,
        },
      },
      schema: {
        tags: ['Inbound events'],
        summary:
          "A provider's event for the account whose trigger token is in the URL; forwarded as account.provider_event",
        description:
          'The body is taken as raw bytes of any content type (up to 256 KiB) and checked against the signature the connector declares, when the account stores a signing secret.',
        params: z.object({
          token: z.string().meta({ examples: ['3f9a1c7e5b2d48a6901e4c2b8d7f6a15c3e9b0d4a7f2e861'] }),
        }),
        response: {
          202: z
            .object({ event_id: z.string().nullable() })
            .meta({ examples: [{ event_id: 'evt_6b1d8f3a2c9e47d5a0f4e7c1b8d2a963' }] }),
          401: errorResponse,
          404: errorResponse,
          413: errorResponse,
          429: errorResponse,
        },
        responseDocs: {
          202: 'Accepted: forwarded as account.provider_event; event_id is null when no webhook endpoint subscribes to it',
          401: {
            description:
              "The signature does not match the account's signing secret, or it is missing or stale",
            example: {
              statusCode: 401,
              message:
                "The X-Zendesk-Webhook-Signature signature does not match. Check the signing secret stored with the account against the provider's webhook settings.",
              timestamp: '2026-11-25T10:00:00.000Z',
            },
          },
          404: {
            description: 'No connected account uses this trigger URL',
            example: {
              statusCode: 404,
              message:
                'No connected account uses this trigger URL. Copy the URL again from the connect form of the account.',
              timestamp: '2026-11-25T10:00:00.000Z',
            },
          },
          413: {
            description: 'The body is larger than 256 KiB',
            example: {
              statusCode: 413,
              message: 'The request body is too large.',
              timestamp: '2026-11-25T10:00:00.000Z',
            },
          },
          429: 'Too many requests for this trigger URL, or too many failed tokens from this address: retry after Retry-After seconds',
        },
      },
    },
    async (request, reply) => {
      const token = request.params.token;
      try {
        const { eventId } = await receiveProviderEvent(deps, {
          token,
          body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          headers: request.headers,
        });
        return reply.status(202).send({ event_id: eventId });
      } catch (err) {
        if (err instanceof DomainError && (err.code === 'not_found' || err.code === 'unauthorized'))
          await app.authThrottle.recordFailure(request, THROTTLE_KIND, token);
        throw err;
      }
    },
  );
};
