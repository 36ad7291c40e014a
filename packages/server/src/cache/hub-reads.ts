import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import type { Db } from '../db/database.ts';
import type { ConnectSessionRow } from '../db/schema.ts';
import { hubSessionOf } from '../http/hub-session-auth.ts';
import { cachesOf, type HubReadEntry } from './data-caches.ts';

export const HUB_JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers to longer URLs are not cached: any query string passes the routes' schemas (unknown
 * parameters are dropped), and the key must not grow with what a client chooses to send.
 */
const MAX_CACHED_URL = 512;

/**
 * A hub answer is cached under the URL exactly as requested, with its session: a URL that reached a
 * route passed its schema, so the same text asks the same question. The hub read lane
 * (http/hub-read-lane.ts) looks answers up by it without parsing anything.
 */
export const hubReadKey = (url: string, tokenHash: string) => `${url}|${tokenHash}`;

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
     * Sends the answer to the request, computed for its session when it is not cached. A cached answer
     * is sent at once, without a promise: that is the common case here, though most cached answers are
     * sent by the hub read lane before a route is reached.
     */
    send<T>(
      request: FastifyRequest,
      reply: FastifyReply,
      schema: ZodType<T>,
      compute: (session: ConnectSessionRow) => Promise<T>,
    ): Promise<void> | undefined {
      const session = hubSessionOf(request);
      const caches = request.url.length <= MAX_CACHED_URL ? cachesOf(db) : undefined;
      const key = hubReadKey(request.url, session.token_hash);
      const hit = caches?.hubReads.get(key);
      // A string with a JSON type is sent as it is: the serializer already ran when it was cached. A
      // string rather than a Buffer because Node joins the response head and a string body into one
      // chunk, while a Buffer body stays a chunk of its own for the socket to gather.
      if (hit) return void reply.type(HUB_JSON_TYPE).send(hit.json);
      const build = async (): Promise<HubReadEntry> => {
        await countComputed.call(request.server, request, reply);
        const json = JSON.stringify(schema.encode(await compute(session)));
        return {
          projectId: session.project_id,
          json,
          bytes: Buffer.byteLength(json),
          route: request.routeOptions.url ?? request.url,
        };
      };
      return (caches ? caches.hubReads.load(key, build) : build()).then((entry) => {
        reply.type(HUB_JSON_TYPE).send(entry?.json);
      });
    },
  };
}
