import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { PACKAGE_VERSION } from '../../install-paths.ts';
import { pagination, storableString } from '../../schemas/common.ts';
import { projectParams } from '../../schemas/console.ts';
import { listAudit } from '../../services/audit.ts';
import { listConnectSessions } from '../../services/connect-session-list.ts';
import { systemStatus } from '../../services/console/system.ts';
import { projectContext } from '../../services/tenancy.ts';

/** Console views with no platform endpoint of their own: the audit log, recent sessions, system status. */
export const consoleExtraRoutes: FastifyPluginAsyncZod<AppContext> = async (app, { db, config }) => {
  app.get(
    '/projects/:projectId/audit_log',
    {
      schema: {
        params: projectParams,
        querystring: z.object({
          actor: storableString(320).optional(),
          action: storableString(100).optional(),
          target_type: storableString(100).optional(),
          target_id: storableString(255).optional(),
          ...pagination,
        }),
      },
    },
    async (request) => {
      await projectContext(db, request.params.projectId);
      return listAudit(db, request.params.projectId, request.query);
    },
  );

  app.get(
    '/projects/:projectId/connect_sessions',
    {
      schema: {
        params: projectParams,
        querystring: z.object({ origin_owner_id: storableString(255).optional(), ...pagination }),
      },
    },
    async (request) =>
      listConnectSessions(db, await projectContext(db, request.params.projectId), request.query),
  );

  app.get('/system', async () =>
    systemStatus(db, {
      version: PACKAGE_VERSION,
      databaseKind: config.databaseUrl ? 'postgres' : 'pglite',
      workerInProcess: config.webhooks.workerInProcess,
    }),
  );
};
