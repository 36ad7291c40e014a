import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance } from 'fastify';
import { cachesOf } from '../cache/data-caches.ts';
import { HUB_JSON_TYPE, hubReadKey } from '../cache/hub-reads.ts';
import type { Db } from '../db/database.ts';
import type { HttpStats } from '../observability/http-stats.ts';
import { cachedUsableSession } from '../services/connect-sessions.ts';
import { hubOriginPolicy } from './hub-cors.ts';
import { presentedSessionToken, sessionOriginCheck } from './hub-session-auth.ts';
import type { RequestLine } from './logging.ts';

export interface HubReadLaneOptions {
  db: Db;
  publicUrl: string;
  hubAllowedOrigins: readonly string[];
  trustProxy: boolean;
  http: HttpStats;
  /** The request line's writer; absent when info is not logged. */
  requestLine: RequestLine | undefined;
  requestId: (req: IncomingMessage) => string;
}

/**
 * Cached hub reads, answered before Fastify sees the request. The hub asks the same few questions
 * (settings, connectors, a connector's form) on every open, and those answers are cached per session
 * (cache/hub-reads.ts); sending one through the framework cost about as much again as the answer
 * itself: the request and reply objects, routing, five hooks (docs/benchmarks.md, fifth pass).
 *
 * The lane answers only what the route would answer the same way, and leaves everything else to
 * Fastify: a GET whose exact URL the route has answered for this session, with a session this process
 * holds as usable (cached, unexpired, not revoked: revocations reach the cache at once) and a browser
 * origin the session accepts. The answer is the route's: same status, body and headers (the CORS
 * headers of hub-cors.ts), counted in the same metrics and logged with the same request line.
 * test/hub-read-lane.test.ts holds the two to the same answers.
 */
export function installHubReadLane(app: FastifyInstance, options: HubReadLaneOptions): void {
  const { db, http, requestLine, requestId } = options;
  const allowsOrigin = hubOriginPolicy(options.hubAllowedOrigins);
  const refusesOrigin = sessionOriginCheck(options.publicUrl);
  // request.ip as Fastify works it out with the same trustProxy setting.
  const clientAddress = options.trustProxy
    ? (req: IncomingMessage) => proxyAddr.all(req, () => true).at(-1)
    : (req: IncomingMessage) => req.socket.remoteAddress;
  // Once closing, Fastify answers new requests (with a 503): the lane steps aside.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  const answer = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url;
    if (req.method !== 'GET' || closing || !url?.startsWith('/hub/')) return false;
    const started = performance.now();
    const token = presentedSessionToken(req.headers);
    if (!token) return false;
    const caches = cachesOf(db);
    const session = caches && cachedUsableSession(db, token);
    const origin = req.headers.origin;
    if (!session || refusesOrigin(session, origin)) return false;
    const entry = caches.hubReads.get(hubReadKey(url, session.token_hash));
    if (!entry) return false;

    // In the order the route sets them: CORS (onRequest), then the body's.
    res.setHeader('vary', 'Origin');
    if (allowsOrigin(origin)) res.setHeader('access-control-allow-origin', origin);
    res.setHeader('content-type', HUB_JSON_TYPE);
    res.setHeader('content-length', entry.bytes);
    res.end(entry.json);
    const ms = performance.now() - started;
    http.record('GET', entry.route, 200, ms / 1000);
    requestLine?.({
      reqId: requestId(req),
      method: 'GET',
      url,
      remoteAddress: clientAddress(req),
      statusCode: 200,
      responseTime: ms,
    });
    return true;
  };

  // Fastify's own server and its one request listener, with the lane in front: the server keeps the
  // timeouts Fastify set on it, and whatever the lane does not answer goes on as before.
  const server = app.server;
  const [framework, ...others] = server.listeners('request') as Array<
    (req: IncomingMessage, res: ServerResponse) => void
  >;
  if (!framework || others.length > 0) throw new Error('expected Fastify to be the one request listener');
  server.removeListener('request', framework);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!answer(req, res)) framework(req, res);
  });
}
