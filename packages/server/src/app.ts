import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import type { AppContext } from './context.ts';
import { apiKeyFromHeader } from './http/api-key-auth.ts';
import { errorBody } from './http/error-body.ts';
import { registerErrorHandling } from './http/error-handler.ts';
import { loggerOptions } from './http/logging.ts';
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
import { metricsRoutes } from './routes/metrics.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { proxyRoutes } from './routes/proxy.ts';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.ts';

export interface AppDeps extends AppContext {
  /** Where logs go (tests capture them); stdout when absent. */
  logStream?: DestinationStream;
  /** Shared with the webhook worker of the same process; a fresh registry when absent. */
  metrics?: Metrics;
}

export async function buildApp({ logStream, metrics, ...ctx }: AppDeps): Promise<FastifyInstance> {
  const { config, db } = ctx;
  const app = Fastify({
    logger: loggerOptions(config.logLevel, logStream),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    // Ids are short and opaque; a proxy's x-request-id is honoured so logs join up across hops.
    requestIdHeader: 'x-request-id',
  }).withTypeProvider<ZodTypeProvider>();

  // The API speaks JSON only; without this Fastify would hand text/plain bodies to the schemas as strings.
  app.removeContentTypeParser('text/plain');
  // Hub clients send content-type: application/json on every call, DELETE included, usually with no
  // body; an empty JSON body therefore means "no body" (routes that need one still reject it).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : parseJson(request, body as string, done),
  );
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);

  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 })
    : undefined;
  if (redis) app.addHook('onClose', async () => void (await redis.quit()));
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    ...(redis ? { redis, nameSpace: 'plugboard-rl:' } : {}),
    // One bucket per API key (hashed: the key itself must not sit in memory or Redis); per client
    // address for requests without one.
    keyGenerator: (request) => {
      const key = apiKeyFromHeader(request.headers.authorization);
      return key ? `k:${createHash('sha256').update(key).digest('base64url')}` : `ip:${request.ip}`;
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
        description: 'Connect sessions, linked accounts and the hub protocol, wire-compatible with StackOne.',
      },
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic', description: 'API key as username, empty password' },
          bearer: { type: 'http', scheme: 'bearer', description: 'API key as bearer token' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () =>
    app.swagger(),
  );

  await app.register(metricsRoutes, { metrics: metrics ?? createMetrics(db), token: config.metricsToken });
  await app.register(healthRoutes, { db });
  await app.register(connectSessionRoutes, ctx);
  await app.register(authConfigRoutes, ctx);
  await app.register(accountRoutes, ctx);
  await app.register(connectorsMetaRoutes, ctx);
  await app.register(connectorLogoRoutes, { catalogue: ctx.catalogue });
  await app.register(embeddedRoutes, { config });
  await app.register(oauthRoutes, ctx);
  await app.register(connectionAttemptRoutes, ctx);
  await app.register(webhookEndpointRoutes, ctx);
  await app.register(proxyRoutes, ctx);
  // Prefixed so the CORS plugin's catch-all preflight route covers /hub/* only.
  await app.register(hubRoutes, { ...ctx, prefix: '/hub' });
  await app.register(consoleApiRoutes, { ...ctx, prefix: '/console/api' });
  await app.register(consoleAssetRoutes, { config });
  return app;
}
