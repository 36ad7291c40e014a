import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import type { Db } from '../db/database.ts';
import type { ConnectSessionRow } from '../db/schema.ts';
import { hubSessionOf } from '../http/hub-session-auth.ts';
import { cachesOf } from './data-caches.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Hub reads answered from this process's cache when it can, else computed, checked against the route's
 * response schema (what the serializer would have done) and cached as JSON text. The hub asks the same
 * questions on every open, and an answer changes only with its project's auth configs or accounts,
 * whose every change announces the project (migration 0013_read_caches).
 *
 * The routes opt out of the global rate limit (`routeConfig`) and count only the answers they compute:
 * serving a cached one costs less than checking the limit would, while a computed one reaches the
 * database, which is what the limit protects.
 */
export function hubReads(app: FastifyInstance, db: Db) {
  // Without options: the global limit's own buckets (per hub session) and settings.
  const countComputed = app.rateLimit();
  return {
    routeConfig: { rateLimit: false as const },
    /**
     * Sends the answer to `question` (route and query; the session is part of the key), computed for the
     * request's session when it is not cached. A cached answer is sent at once, without a promise: that
     * is the common case.
     */
    send<T>(
      request: FastifyRequest,
      reply: FastifyReply,
      question: string,
      schema: ZodType<T>,
      compute: (session: ConnectSessionRow) => Promise<T>,
    ): Promise<void> | undefined {
      const session = hubSessionOf(request);
      const caches = cachesOf(db);
      const key = `${question}|${session.token_hash}`;
      const hit = caches?.hubReads.get(key);
      // A string with a JSON type is sent as it is: the serializer already ran when it was cached. A
      // string rather than a Buffer because Node joins the response head and a string body into one
      // chunk, while a Buffer body stays a chunk of its own for the socket to gather.
      if (hit) return void reply.type(JSON_TYPE).send(hit.json);
      const build = async () => {
        await countComputed.call(request.server, request, reply);
        return { projectId: session.project_id, json: JSON.stringify(schema.encode(await compute(session))) };
      };
      return (caches ? caches.hubReads.load(key, build) : build()).then((entry) => {
        reply.type(JSON_TYPE).send(entry?.json);
      });
    },
  };
}
