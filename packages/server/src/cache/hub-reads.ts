import type { FastifyReply } from 'fastify';
import type { ZodType } from 'zod';
import type { Db } from '../db/database.ts';
import type { ConnectSessionRow } from '../db/schema.ts';
import { cachesOf } from './data-caches.ts';

/**
 * Answers a hub read from this process's cache, else computes it, checks it against the route's
 * response schema (what the serializer would have done) and caches the JSON text. The hub asks the
 * same questions on every open, and an answer changes only with its project's auth configs or
 * accounts, whose every change announces the project (migration 0013_read_caches).
 */
export async function sendHubRead<T>(
  reply: FastifyReply,
  db: Db,
  session: ConnectSessionRow,
  /** What, besides the session, the answer depends on: route and query. */
  question: string,
  schema: ZodType<T>,
  compute: () => Promise<T>,
): Promise<FastifyReply> {
  const build = async () => ({
    projectId: session.project_id,
    json: JSON.stringify(schema.encode(await compute())),
  });
  const caches = cachesOf(db);
  const key = `${question}|${session.token_hash}`;
  const entry = caches ? await caches.hubReads.load(key, build) : await build();
  // A string with a JSON type is sent as it is: the serializer already ran when it was cached. A string
  // rather than a Buffer because Node joins the response head and a string body into one chunk, while
  // a Buffer body stays a chunk of its own for the socket to gather (measured: ~2 µs a request).
  return reply.type('application/json; charset=utf-8').send(entry?.json);
}
