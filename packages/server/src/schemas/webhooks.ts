import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/events.ts';
import { httpUrl, isoDateTime, pagination, storableString } from './common.ts';
import { EXAMPLE, webhookDeliveryExample, webhookEndpointExample } from './examples.ts';

const eventFilter = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1, 'must list at least one event, or be null for every event')
  .max(WEBHOOK_EVENT_TYPES.length * 2);

export const webhookEndpointCreate = z
  .strictObject({
    url: httpUrl.max(2048),
    description: storableString(500).nullish(),
    /** Event types to deliver; null or absent for all of them. */
    events: eventFilter.nullish(),
    enabled: z.boolean().optional(),
  })
  .meta({
    id: 'WebhookEndpointCreate',
    examples: [
      {
        url: 'https://api.acme-saas.example/hooks/plugboard',
        description: 'Production receiver',
        events: ['account.created', 'account.updated', 'account.refresh_failed'],
      },
    ],
  });
export type WebhookEndpointCreate = z.output<typeof webhookEndpointCreate>;

export const webhookEndpointUpdate = webhookEndpointCreate
  .partial()
  .meta({ id: 'WebhookEndpointUpdate', examples: [{ events: null, enabled: false }] });
export type WebhookEndpointUpdate = z.output<typeof webhookEndpointUpdate>;

export const webhookEndpoint = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()).nullable(),
    enabled: z.boolean(),
    /** Until when the secret replaced by the last rotation still signs deliveries (null: none). */
    previous_secret_expires_at: isoDateTime.nullable(),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .meta({ id: 'WebhookEndpoint', examples: [webhookEndpointExample] });
export type WebhookEndpoint = z.output<typeof webhookEndpoint>;

/** Creation and rotation answers: the only times the signing secret is shown. */
export const webhookEndpointWithSecret = webhookEndpoint.extend({ secret: z.string() }).meta({
  id: 'WebhookEndpointWithSecret',
  examples: [{ ...webhookEndpointExample, secret: 'whsec_Zk3q9P0v6cJ2mN8rT1xW4yB7dF5gH0aL3sE6uI9oQ2k=' }],
});

export const webhookEndpointList = z
  .object({
    data: z.array(webhookEndpoint),
    page: z.number().int(),
    page_size: z.number().int(),
    total: z.number().int(),
  })
  .meta({ examples: [{ data: [webhookEndpointExample], page: 1, page_size: 25, total: 1 }] });

export const rotateSecretBody = z
  .strictObject({
    /** How long the old secret keeps signing next to the new one; the configured default when absent. */
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .optional(),
  })
  .meta({ examples: [{ overlap_seconds: 3600 }] })
  .nullish();

export const endpointIdParams = z.object({ id: storableString(100) });
export const deliveryParams = z.object({ id: storableString(100), delivery_id: storableString(100) });

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

export const deliveryListQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  ...pagination,
});
export type DeliveryListQuery = z.output<typeof deliveryListQuery>;

export const webhookDelivery = z
  .object({
    id: z.string(),
    endpoint_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    url: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    next_attempt_at: isoDateTime.nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_latency_ms: z.number().int().nullable(),
    delivered_at: isoDateTime.nullable(),
    replay_of: z.string().nullable(),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .meta({ id: 'WebhookDelivery', examples: [webhookDeliveryExample] });
export type WebhookDelivery = z.output<typeof webhookDelivery>;

export const webhookDeliveryList = z
  .object({
    data: z.array(webhookDelivery),
    page: z.number().int(),
    page_size: z.number().int(),
    total: z.number().int(),
  })
  .meta({ examples: [{ data: [webhookDeliveryExample], page: 1, page_size: 25, total: 1 }] });

export const webhookDeliveryDetail = webhookDelivery
  .extend({
    payload: z.record(z.string(), z.unknown()),
    log: z.array(
      z.object({
        attempt: z.number().int(),
        status_code: z.number().int().nullable(),
        error: z.string().nullable(),
        latency_ms: z.number().int(),
        response_body: z.string().nullable(),
        created_at: isoDateTime,
      }),
    ),
  })
  .meta({
    id: 'WebhookDeliveryDetail',
    examples: [
      {
        ...webhookDeliveryExample,
        payload: {
          id: EXAMPLE.eventId,
          project_id: EXAMPLE.projectId,
          event: 'account.created',
          event_date: EXAMPLE.updated,
          record_type: 'account',
          record_id: EXAMPLE.accountId,
          account_id: EXAMPLE.accountId,
          provider: 'bamboohr',
          origin_owner_id: 'customer-42',
          origin_owner_name: 'Acme Inc',
          origin_username: 'jane.doe@acme.example',
          label: 'Acme HR',
          status: 'active',
          status_reasons: null,
          setup_information: { subdomain: 'acme' },
        },
        log: [
          {
            attempt: 1,
            status_code: 200,
            error: null,
            latency_ms: 84,
            response_body: '{"received":true}',
            created_at: EXAMPLE.updated,
          },
        ],
      },
    ],
  });
