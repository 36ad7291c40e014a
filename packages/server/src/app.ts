import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import { type CacheTtls, startDataCaches } from './cache/data-caches.ts';
import { type AppContext, createAppContext } from './context.ts';
import type { DatabaseHandle } from './db/database.ts';
import { validationFailed } from './errors.ts';
import { AuthThrottle, memoryFailureStore, redisFailureStore } from './http/auth-throttle.ts';
import { clientErrorHandler, frameworkErrorHandler } from './http/client-errors.ts';
import { API_DESCRIPTION, docsUiOptions } from './http/docs-ui.ts';
import { errorBody } from './http/error-body.ts';
import { registerErrorHandling } from './http/error-handler.ts';
import { installHubReadLane } from './http/hub-read-lane.ts';
import { jsonDepth, MAX_JSON_DEPTH, registerInputGuards } from './http/input-guards.ts';
import type { Lifecycle } from './http/lifecycle.ts';
import { lazyRequestLogger, loggerOptions, registerRequestLog, requestIds } from './http/logging.ts';
import { createOpenApiTransforms } from './http/openapi.ts';
import { connectRedis } from './http/redis.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { accountRoutes } from './routes/accounts.ts';
import { authConfigRoutes } from './routes/auth-configs.ts';
import { connectSessionRoutes } from './routes/connect-sessions.ts';
import { connectionAttemptRoutes } from './routes/connection-attempts.ts';
import { connectorLogoRoutes } from './routes/connector-logos.ts';
import { connectorsMetaRoutes } from './routes/connectors-meta.ts';
import { consoleApiRoutes } from './routes/console/index.ts';
import { consoleAssetRoutes } from './routes/console-assets.ts';
import { embeddedRoutes } from './routes/embedded.ts';
import { healthRoutes } from './routes/health.ts';
import { hubRoutes } from './routes/hub/index.ts';
import { inboundWebhookRoutes } from './routes/inbound-webhooks.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { proxyRoutes } from './routes/proxy.ts';
import { sandboxRoutes } from './routes/sandbox.ts';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.ts';
import { findUsableSession } from './services/connect-sessions.ts';

export interface AppDeps extends Omit<AppContext, 'outbound'> {
  /** Shared with background work of the same process; made (and closed with the app) when absent. */
  outbound?: AppContext['outbound'];
  /** Where logs go (tests capture them); stdout when absent. */
  logStream?: DestinationStream;
  /** Shared with the webhook worker of the same process; a fresh registry when absent. */
  metrics?: Metrics;
  /**
   * The database's LISTEN: with it, API keys, sessions and accounts are cached in this process and
   * every change made by any process reaches the caches (src/cache/); without it nothing is cached.
   */
  listen?: DatabaseHandle['listen'];
  /** Tests only: longer TTLs prove that changes arrive by notice, not by expiry. */
  cacheTtls?: CacheTtls;
  /** Set to draining on shutdown, which readiness reports. */
  lifecycle?: Lifecycle;
}

export async function buildApp({
  logStream,
  metrics,
  listen,
  cacheTtls,
  lifecycle,
  ...deps
}: AppDeps): Promise<FastifyInstance> {
  const ctx: AppContext = deps.outbound ? { ...deps, outbound: deps.outbound } : createAppContext(deps);
  const { config, db } = ctx;
  const ids = requestIds();
  const app = Fastify({
    logger: loggerOptions(config.logLevel, logStream),
    // One line per request (registerRequestLog) instead of Fastify's two: half the logging work.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is made when something logs through it, not for every request (http/logging.ts).
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    // Ids are short and opaque; a proxy's x-request-id is honoured so logs join up across hops.
    requestIdHeader: 'x-request-id',
    genReqId: ids.next,
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();

  // The API speaks JSON only; without this Fastify would hand text/plain bodies to the schemas as strings.
  app.removeContentTypeParser('text/plain');
  // Hub clients send content-type: application/json on every call, DELETE included, usually with no
  // body; an empty JSON body therefore means "no body" (routes that need one still reject it).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    if (jsonDepth(body as string, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return done(
        validationFailed(`The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`, [
          `body: nested more than ${MAX_JSON_DEPTH} levels`,
        ]),
      );
    }
    return parseJson(request, body as string, done);
  });
  const requestLine = registerRequestLog(app);
  registerInputGuards(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  if (!deps.outbound) app.addHook('onClose', () => ctx.outbound.close());
  const appMetrics = metrics ?? createMetrics(db);
  if (listen) {
    const stopCaches = await startDataCaches(db, listen, cacheTtls);
    app.addHook('onClose', stopCaches);
    installHubReadLane(app, {
      db,
      publicUrl: config.publicUrl,
      hubAllowedOrigins: config.hubAllowedOrigins,
      trustProxy: config.trustProxy,
      http: appMetrics.http,
      requestLine,
      requestId: ids.of,
    });
  }

  const redis = config.redisUrl ? await connectRedis(config.redisUrl, app.log) : undefined;
  if (redis) app.addHook('onClose', async () => void (await redis.quit().catch(() => redis.disconnect())));
  app.decorate(
    'authThrottle',
    new AuthThrottle(redis ? redisFailureStore(redis) : memoryFailureStore(), config.authFailures, (err) =>
      app.log.warn({ err }, 'failed-authentication counters unavailable; not throttling meanwhile'),
    ),
  );
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    // After authentication: failed attempts are throttled by the auth hooks before any lookup, so these
    // buckets only ever hold checked identities and cannot be multiplied with made-up keys.
    hook: 'preHandler',
    // During a Redis outage requests are served without the shared limit (the outage is logged) rather
    // than refused: the limit protects the service, and refusing everything would be the bigger outage.
    ...(redis ? { redis, nameSpace: 'plugboard-rl:', skipOnError: true } : {}),
    // One bucket per valid API key (hashed: the key itself must not sit in memory or Redis), per hub
    // session, else per client address.
    keyGenerator: (request) => {
      if (request.apiKeyHash) return `k:${request.apiKeyHash}`;
      if (request.hubSession) return `s:${request.hubSession.id}`;
      return `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) => ({
      ...errorBody(
        429,
        `Rate limit exceeded: at most ${context.max} requests per minute. Retry after ${Math.ceil(context.ttl / 1000)} s.`,
      ),
    }),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Plugboard API',
        version: '0.1.0',
        description: API_DESCRIPTION,
      },
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic', description: 'API key as username, empty password' },
          bearer: { type: 'http', scheme: 'bearer', description: 'API key as bearer token' },
          hubSession: {
            type: 'apiKey',
            in: 'header',
            name: 'x-hub-session-token',
            description: 'The connect session token (hub routes, called from the browser)',
          },
        },
      },
    },
    ...createOpenApiTransforms(),
  });
  await app.register(swaggerUi, docsUiOptions);
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () =>
    app.swagger(),
  );

  await app.register(metricsRoutes, { metrics: appMetrics, token: config.metricsToken });
  await app.register(healthRoutes, { db, lifecycle });
  await app.register(connectSessionRoutes, ctx);
  await app.register(authConfigRoutes, ctx);
  await app.register(accountRoutes, ctx);
  await app.register(connectorsMetaRoutes, ctx);
  await app.register(connectorLogoRoutes, { catalogue: ctx.catalogue });
  await app.register(embeddedRoutes, {
    config,
    sessionOrigins: async (token) =>
      token.length <= 512 ? (await findUsableSession(db, undefined, token))?.allowed_origins : undefined,
  });
  await app.register(oauthRoutes, ctx);
  await app.register(connectionAttemptRoutes, ctx);
  await app.register(webhookEndpointRoutes, ctx);
  await app.register(proxyRoutes, ctx);
  await app.register(inboundWebhookRoutes, ctx);
  if (config.sandbox) await app.register(sandboxRoutes, ctx);
  // Prefixed so the CORS plugin's catch-all preflight route covers /hub/* only.
  await app.register(hubRoutes, { ...ctx, prefix: '/hub' });
  await app.register(consoleApiRoutes, { ...ctx, prefix: '/console/api' });
  await app.register(consoleAssetRoutes, { config });
  return app;
}
