import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { operatorOf } from '../../http/console-session.ts';
import { errorResponses } from '../../schemas/common.ts';
import {
  apiKeyCreateBody,
  apiKeyInfo,
  keyParams,
  project,
  projectCreateBody,
  projectParams,
} from '../../schemas/console.ts';
import {
  createApiKey,
  createProject,
  listApiKeys,
  listProjects,
  revokeApiKey,
} from '../../services/tenancy.ts';

/** Projects and their API keys, through the same tenancy service the CLI uses. */
export const consoleProjectRoutes: FastifyPluginAsyncZod<AppContext> = async (app, { db }) => {
  const actor = (request: Parameters<typeof operatorOf>[0]) => ({
    type: 'operator' as const,
    id: operatorOf(request).operator.email,
  });

  app.get('/projects', { schema: { response: { 200: z.object({ data: z.array(project) }) } } }, async () => ({
    data: await listProjects(db),
  }));

  app.post(
    '/projects',
    {
      schema: {
        body: projectCreateBody,
        response: { 201: project.extend({ api_key: z.string() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await createProject(db, { name: request.body.name, actor: actor(request) });
      const row = (await listProjects(db)).find((p) => p.project_id === created.project_id)!;
      return reply.status(201).send({ ...row, api_key: created.api_key });
    },
  );

  app.get(
    '/projects/:projectId/api_keys',
    {
      schema: {
        params: projectParams,
        response: { 200: z.object({ data: z.array(apiKeyInfo) }), ...errorResponses },
      },
    },
    async (request) => ({ data: await listApiKeys(db, request.params.projectId) }),
  );

  app.post(
    '/projects/:projectId/api_keys',
    {
      schema: {
        params: projectParams,
        body: apiKeyCreateBody,
        response: { 201: apiKeyInfo.extend({ api_key: z.string() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { key, info } = await createApiKey(
        db,
        request.params.projectId,
        request.body.name ?? null,
        actor(request),
      );
      return reply.status(201).send({ ...info, api_key: key });
    },
  );

  app.post(
    '/projects/:projectId/api_keys/:keyId/revoke',
    { schema: { params: keyParams, response: { 200: apiKeyInfo, ...errorResponses } } },
    async (request) =>
      revokeApiKey(db, request.params.keyId, { projectId: request.params.projectId, actor: actor(request) }),
  );
};
