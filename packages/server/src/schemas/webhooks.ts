import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/events.ts';
import { httpUrl, isoDateTime, pagination, storableString } from './common.ts';

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
  .meta({ id: 'WebhookEndpointCreate' });
export type WebhookEndpointCreate = z.output<typeof webhookEndpointCreate>;

export const webhookEndpointUpdate = webhookEndpointCreate.partial().meta({ id: 'WebhookEndpointUpdate' });
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
  .meta({ id: 'WebhookEndpoint' });
export type WebhookEndpoint = z.output<typeof webhookEndpoint>;

/** Creation and rotation answers: the only times the signing secret is shown. */
export const webhookEndpointWithSecret = webhookEndpoint
  .extend({ secret: z.string() })
  .meta({ id: 'WebhookEndpointWithSecret' });

export const webhookEndpointList = z.object({
  data: z.array(webhookEndpoint),
  page: z.number().int(),
  page_size: z.number().int(),
  total: z.number().int(),
});

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
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.output<typeof webhookDelivery>;

export const webhookDeliveryList = z.object({
  data: z.array(webhookDelivery),
  page: z.number().int(),
  page_size: z.number().int(),
  total: z.number().int(),
});

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
  .meta({ id: 'WebhookDeliveryDetail' });
