import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { operatorOf } from '../../http/console-session.ts';
import { errorResponses } from '../../schemas/common.ts';
import {
  keyRotationJob,
  keyRotationStartBody,
  keyRotationState,
} from '../../schemas/console-key-rotation.ts';
import { findKeyRotation, keyRotationRunner } from '../../services/console/key-rotation-jobs.ts';

/** Start a key rotation from the console and watch it: the job runs on after the request answers. */
export const consoleKeyRotationRoutes: FastifyPluginAsyncZod<AppContext> = async (app, { db, vault }) => {
  const runner = keyRotationRunner({ db, vault, log: app.log });
  // Shutdown stops the job after its current batch and records it as interrupted, before the database closes.
  app.addHook('onClose', () => runner.stop());

  app.post(
    '/system/key_rotation',
    {
      schema: {
        body: keyRotationStartBody,
        response: { 202: keyRotationJob, ...errorResponses },
        responseDocs: {
          202: 'Started: the job runs in the background; poll GET /system/key_rotation for its progress',
          409: 'A key rotation is already running (from this or another process); wait for it to finish',
        },
      },
    },
    async (request, reply) => {
      const job = await runner.start({
        mode: request.body.mode,
        batchSize: request.body.batch_size,
        actor: { type: 'operator', id: operatorOf(request).operator.email },
      });
      return reply.status(202).send(job);
    },
  );

  app.get(
    '/system/key_rotation',
    {
      schema: {
        response: { 200: keyRotationState, ...errorResponses },
        responseDocs: {
          200: 'The running key rotation, else the last one (with its result); job is null if none was started here',
        },
      },
    },
    async () => ({ job: await findKeyRotation(db) }),
  );
};
