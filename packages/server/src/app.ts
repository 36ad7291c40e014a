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
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import { apiKeyFromHeader } from './http/api-key-auth.ts';
import { errorBody } from './http/error-body.ts';
import { registerErrorHandling } from './http/error-handler.ts';
import { loggerOptions } from './http/logging.ts';
import { connectSessionRoutes } from './routes/connect-sessions.ts';
import { healthRoutes } from './routes/health.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  /** Where logs go (tests capture them); stdout when absent. */
  logStream?: DestinationStream;
}

export async function buildApp({ config, db, logStream }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config.logLevel, logStream),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    // Ids are short and opaque; a proxy's x-request-id is honoured so logs join up across hops.
    requestIdHeader: 'x-request-id',
  }).withTypeProvider<ZodTypeProvider>();

  // The API speaks JSON only; without this Fastify would hand text/plain bodies to the schemas as strings.
  app.removeContentTypeParser('text/plain');
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

  await app.register(healthRoutes, { db });
  await app.register(connectSessionRoutes, { db, config });
  return app;
}
