import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { API_KEY_SECURITY, projectAuth, projectOf } from '../http/api-key-auth.ts';
import { errorResponses, pagination } from '../schemas/common.ts';
import {
  deliveryListQuery,
  deliveryParams,
  endpointIdParams,
  rotateSecretBody,
  webhookDelivery,
  webhookDeliveryDetail,
  webhookDeliveryList,
  webhookEndpoint,
  webhookEndpointCreate,
  webhookEndpointList,
  webhookEndpointUpdate,
  webhookEndpointWithSecret,
} from '../schemas/webhooks.ts';
import {
  createEndpoint,
  deleteEndpoint,
  getDelivery,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  replayDelivery,
  rotateSecret,
  updateEndpoint,
} from '../services/webhook-endpoints.ts';
import { sendTestEvent } from '../services/webhook-test-event.ts';

/** Beyond the reference: the project's webhook endpoints, their secrets and their delivery log. */
export const webhookEndpointRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  app.addHook('onRequest', projectAuth(ctx));
  const deps = { db: ctx.db, vault: ctx.vault, config: ctx.config.webhooks };
  const common = { tags: ['Webhooks'], security: API_KEY_SECURITY };
  const byId = { ...common, params: endpointIdParams };

  app.post(
    '/webhook_endpoints',
    {
      schema: {
        ...common,
        summary: 'Register a webhook endpoint; the answer shows its signing secret, once',
        body: webhookEndpointCreate,
        response: { 201: webhookEndpointWithSecret, ...errorResponses },
        responseDocs: { 201: 'The endpoint with its signing secret: keep it, it is not shown again' },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createEndpoint(deps, projectOf(request), request.body)),
  );

  app.get(
    '/webhook_endpoints',
    {
      schema: {
        ...common,
        summary: "List the project's webhook endpoints",
        querystring: z.object(pagination),
        response: { 200: webhookEndpointList, ...errorResponses },
        responseDocs: { 200: 'One page of endpoints with the total count (secrets never included)' },
      },
    },
    async (request) => listEndpoints(deps, projectOf(request), request.query),
  );

  app.get(
    '/webhook_endpoints/:id',
    {
      schema: {
        ...byId,
        summary: 'Get a webhook endpoint',
        response: { 200: webhookEndpoint, ...errorResponses },
        responseDocs: { 200: 'The endpoint (without its secret)' },
      },
    },
    async (request) => getEndpoint(deps, projectOf(request), request.params.id),
  );

  app.patch(
    '/webhook_endpoints/:id',
    {
      schema: {
        ...byId,
        summary: "Change an endpoint's URL, event filter, description or enabled flag",
        body: webhookEndpointUpdate,
        response: { 200: webhookEndpoint, ...errorResponses },
        responseDocs: { 200: 'The endpoint after the change' },
      },
    },
    async (request) => updateEndpoint(deps, projectOf(request), request.params.id, request.body),
  );

  app.delete(
    '/webhook_endpoints/:id',
    {
      schema: {
        ...byId,
        summary: 'Delete an endpoint with its pending deliveries and log',
        response: { 204: z.null(), ...errorResponses },
        responseDocs: { 204: 'Deleted, with its pending deliveries and log' },
      },
    },
    async (request, reply) => {
      await deleteEndpoint(deps, projectOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/webhook_endpoints/:id/rotate_secret',
    {
      schema: {
        ...byId,
        summary: 'Issue a new signing secret; the old one keeps signing during the overlap',
        body: rotateSecretBody,
        response: { 200: webhookEndpointWithSecret, ...errorResponses },
        responseDocs: {
          200: 'The endpoint with its new secret; previous_secret_expires_at says until when the old one signs too',
        },
      },
    },
    async (request) =>
      rotateSecret(deps, projectOf(request), request.params.id, request.body?.overlap_seconds),
  );

  app.get(
    '/webhook_endpoints/:id/deliveries',
    {
      schema: {
        ...byId,
        summary: 'The delivery log of an endpoint, newest first',
        querystring: deliveryListQuery,
        response: { 200: webhookDeliveryList, ...errorResponses },
        responseDocs: { 200: 'One page of deliveries with the total count' },
      },
    },
    async (request) => listDeliveries(deps, projectOf(request), request.params.id, request.query),
  );

  app.get(
    '/webhook_endpoints/:id/deliveries/:delivery_id',
    {
      schema: {
        ...common,
        params: deliveryParams,
        summary: 'One delivery with its payload and every try',
        response: { 200: webhookDeliveryDetail, ...errorResponses },
        responseDocs: { 200: 'The delivery, the event payload it carries and the log of every try' },
      },
    },
    async (request) => getDelivery(deps, projectOf(request), request.params.id, request.params.delivery_id),
  );

  app.post(
    '/webhook_endpoints/:id/deliveries/:delivery_id/replay',
    {
      schema: {
        ...common,
        params: deliveryParams,
        summary: 'Send a delivered or failed event again, as a new delivery',
        response: { 202: webhookDelivery, ...errorResponses },
        responseDocs: {
          202: 'The new delivery, queued; it carries the same webhook-id so receivers can dedupe',
          409: 'The endpoint is disabled: enable it to replay',
        },
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(await replayDelivery(deps, projectOf(request), request.params.id, request.params.delivery_id)),
  );

  app.post(
    '/webhook_endpoints/:id/test',
    {
      schema: {
        ...byId,
        summary: 'Send a webhook.test event to this endpoint only',
        response: { 202: z.object({ event_id: z.string(), delivery_id: z.string() }), ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await sendTestEvent(deps, projectOf(request), request.params.id)),
  );
};
