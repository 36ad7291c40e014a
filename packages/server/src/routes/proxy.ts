import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AppContext, serviceDeps } from '../context.ts';
import { API_KEY_SECURITY, projectAuth, projectOf } from '../http/api-key-auth.ts';
import { errorResponse, errorResponses } from '../schemas/common.ts';
import { proxyHeaders, proxyRequestBody } from '../schemas/proxy.ts';
import { proxyRequest } from '../services/proxy.ts';

/** Beyond the reference data model, as in StackOne: raw provider calls made as a linked account. */
export const proxyRoutes: FastifyPluginAsyncZod<AppContext> = async (app, ctx) => {
  app.addHook('onRequest', projectAuth(ctx));
  const deps = serviceDeps(ctx);

  app.post(
    '/unified/proxy',
    {
      schema: {
        tags: ['Proxy'],
        summary: "Call the provider's API as the account in x-account-id; the 2xx answer is passed on as is",
        security: API_KEY_SECURITY,
        headers: proxyHeaders,
        body: proxyRequestBody,
        response: {
          200: z
            .unknown()
            .meta({ examples: [{ employees: [{ id: '4', displayName: 'Charlotte Abbott' }] }] }),
          ...errorResponses,
          422: errorResponse,
          502: errorResponse,
          504: errorResponse,
        },
        responseDocs: {
          200: "The provider's 2xx answer, passed on with its own status (200, 201, 204…) and content type",
          404: 'No account with this x-account-id in the project',
          422: 'The account cannot be used (its integration is gone), or the URL is not its API host',
          502: {
            description:
              "The provider answered with an error, or could not be reached: its answer (or the network error) is in `provider_response`. A provider's own 4xx other than 401 is passed on with its status",
            example: {
              statusCode: 502,
              message: 'BambooHR answered HTTP 500.',
              timestamp: '2026-11-25T10:00:00.000Z',
              provider_response: '{"error":"Internal Server Error"}',
            },
          },
        },
      },
    },
    async (request, reply) => {
      const result = await proxyRequest(
        deps,
        projectOf(request),
        request.headers['x-account-id'],
        request.body,
      );
      if (result.contentType) reply.header('content-type', result.contentType);
      // A Buffer is sent as it is (no serialisation); the provider's 2xx status is kept (200, 201, 204…).
      return reply.status(result.status as 200).send(result.body);
    },
  );
};
