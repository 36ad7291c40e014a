import path from 'node:path';
import { z } from 'zod';
import { defaultDataDir } from './install-paths.ts';
import { CONFIGURABLE_RANGES } from './outbound/address-policy.ts';

/**
 * Everything the service reads from its environment, parsed once at start-up.
 * This is the only module that looks at process.env; everything else receives a Config.
 */
export interface Config {
  host: string;
  port: number;
  /** Base URL browsers use to reach Plugboard; auth links are built from it. No trailing slash. */
  publicUrl: string;
  /** PostgreSQL connection string; when absent the embedded PGlite database in dataDir is used. */
  databaseUrl: string | undefined;
  dataDir: string;
  rateLimitPerMinute: number;
  redisUrl: string | undefined;
  bootstrapApiKey: string | undefined;
  logLevel: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  trustProxy: boolean;
  /** Origins allowed to call /hub/* from a browser; ['*'] allows any (the session token still guards every call). */
  hubAllowedOrigins: string[];
  /** Upper bound for one call to a provider (credential checks, token exchanges, proxy). */
  providerTimeoutMs: number;
  /**
   * Non-public ranges (loopback, private, linkLocal…) provider URLs may resolve to: on-premise systems.
   * Everything a tenant can point Plugboard at is refused there by default.
   */
  providerAllowedRanges: string[];
  /** 32-byte key wrapping the credential encryption keys; a file in dataDir is used when absent. */
  masterKey: Buffer | undefined;
  /**
   * Where OAuth flows may send the browser back to, besides Plugboard's own finish page: origins
   * (any path on them) or exact URIs, e.g. a native app's registered redirect URI.
   */
  oauthRedirectUris: string[];
  webhooks: WebhookConfig;
  refresh: RefreshConfig;
  /** On SIGTERM, how long `serve` keeps answering (readiness already 503) before it stops listening. */
  shutdownGraceMs: number;
  /**
   * How far the V8 heap may grow past its live set before a full collection, in percent
   * (src/runtime/heap-growth.ts); 0 leaves V8's own heuristic, which lets it reach several times the live set.
   * By default 25 on PostgreSQL and 50 on PGlite.
   */
  heapGrowthPercent: number;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** The built-in sandbox provider (connectors sandbox and sandbox_oauth, src/sandbox/). */
  sandbox: boolean;
  /** Failed authentication allowed per client address and per presented credential, per window. */
  authFailures: { perAddress: number; perCredential: number; windowMs: number };
  console: ConsoleConfig;
}

export interface ConsoleConfig {
  /** A console session ends after this long without a request. */
  idleMinutes: number;
  /** …and this long after sign-in, whatever happens. */
  absoluteHours: number;
  /** Failed sign-ins per email (four times as many per client address) before sign-in is refused for a while. */
  maxFailures: number;
  /** The window failures are counted in, and how long sign-in stays refused once it fills. */
  lockoutSeconds: number;
}

export interface RefreshConfig {
  /** Run the background token refresher inside `plugboard serve` (off when `plugboard worker`s do it). */
  workerInProcess: boolean;
  /** Token refreshes one process runs at the same time. */
  concurrency: number;
  /** How often an idle refresher looks for tokens coming up for refresh. */
  pollMs: number;
  /** How long a claimed account is left to its process before another may take it over. */
  leaseMs: number;
}

export interface WebhookConfig {
  /** Run the delivery worker inside `plugboard serve` (off when dedicated `plugboard worker`s run). */
  workerInProcess: boolean;
  /** ipaddr.js range names (loopback, private, linkLocal, uniqueLocal…) receivers may resolve to. */
  allowedRanges: string[];
  /** Upper bound for one delivery: connect, response headers and (capped) body. */
  timeoutMs: number;
  /** First retry delay; each later one is four times longer (capped at 6 h), with jitter. */
  retryBaseMs: number;
  /** Tries per delivery before it is marked failed (the default spans about a day). */
  maxAttempts: number;
  /** How long a rotated-out signing secret keeps signing, unless the rotation asks otherwise. */
  secretOverlapSeconds: number;
  /** How often an idle worker looks for due deliveries (commits in the same database also wake it). */
  pollMs: number;
  /** Deliveries one worker sends at the same time. */
  concurrency: number;
  /** Events (with their deliveries and log) are kept this long once nothing is pending for them. */
  retentionDays: number;
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A comma-separated list of non-public address ranges an operator opens, e.g. "loopback,private". */
const rangeList = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
  )
  .refine((ranges) => ranges.every((r) => (CONFIGURABLE_RANGES as readonly string[]).includes(r)), {
    message: `must be a comma-separated list of: ${CONFIGURABLE_RANGES.join(', ')}`,
  });

const envSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  // Defaults to http://localhost:$PORT, below.
  PLUGBOARD_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
    .optional(),
  // Defaults to .plugboard at the root of the Plugboard checkout, else in the working directory.
  PLUGBOARD_DATA_DIR: z.string().min(1).optional(),
  PLUGBOARD_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(1000),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  PLUGBOARD_BOOTSTRAP_API_KEY: z.string().min(20, 'must be at least 20 characters long').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PLUGBOARD_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  PLUGBOARD_TRUST_PROXY: bool.default(false),
  PLUGBOARD_HUB_ALLOWED_ORIGINS: z.string().default('*'),
  PLUGBOARD_MASTER_KEY: z
    .string()
    .transform((v) => (/^[0-9a-f]{64}$/i.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64')))
    .refine(
      (b) => b.length === 32,
      'must be 32 bytes, as 64 hex characters or base64 (openssl rand -base64 32)',
    )
    .optional(),
  PLUGBOARD_OAUTH_REDIRECT_URIS: z.string().default(''),
  PLUGBOARD_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  PLUGBOARD_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters long').optional(),
  PLUGBOARD_AUTH_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(50),
  PLUGBOARD_AUTH_FAILURES_PER_CREDENTIAL: z.coerce.number().int().min(1).default(10),
  PLUGBOARD_AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  PLUGBOARD_WEBHOOK_WORKER: bool.default(true),
  PLUGBOARD_SANDBOX: bool.default(true),
  PLUGBOARD_WEBHOOK_ALLOWED_RANGES: rangeList,
  PLUGBOARD_PROVIDER_ALLOWED_RANGES: rangeList,
  PLUGBOARD_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  PLUGBOARD_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(5_000),
  PLUGBOARD_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(11),
  PLUGBOARD_WEBHOOK_SECRET_OVERLAP_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(86_400),
  PLUGBOARD_WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  PLUGBOARD_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(64),
  PLUGBOARD_WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  PLUGBOARD_CONSOLE_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(60),
  PLUGBOARD_CONSOLE_SESSION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 24)
    .default(12),
  PLUGBOARD_CONSOLE_MAX_FAILED_SIGN_INS: z.coerce.number().int().min(1).max(1000).default(5),
  PLUGBOARD_CONSOLE_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  PLUGBOARD_REFRESH_WORKER: bool.default(true),
  PLUGBOARD_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(300_000).default(5_000),
  PLUGBOARD_HEAP_GROWTH_PERCENT: z.coerce.number().int().min(0).max(1000).optional(),
  PLUGBOARD_REFRESH_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  PLUGBOARD_REFRESH_POLL_MS: z.coerce.number().int().min(10).max(300_000).default(5_000),
});

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Treat empty strings as "not set", the way shells and .env files usually mean it.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid configuration in the environment:\n${problems}`);
  }
  const e = parsed.data;
  return {
    host: e.HOST,
    port: e.PORT,
    publicUrl: (e.PLUGBOARD_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL,
    dataDir: e.PLUGBOARD_DATA_DIR ? path.resolve(e.PLUGBOARD_DATA_DIR) : defaultDataDir(),
    rateLimitPerMinute: e.PLUGBOARD_RATE_LIMIT_PER_MINUTE,
    redisUrl: e.REDIS_URL,
    bootstrapApiKey: e.PLUGBOARD_BOOTSTRAP_API_KEY,
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.PLUGBOARD_BODY_LIMIT_BYTES,
    trustProxy: e.PLUGBOARD_TRUST_PROXY,
    hubAllowedOrigins: e.PLUGBOARD_HUB_ALLOWED_ORIGINS.split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean),
    providerTimeoutMs: e.PLUGBOARD_PROVIDER_TIMEOUT_MS,
    providerAllowedRanges: e.PLUGBOARD_PROVIDER_ALLOWED_RANGES,
    masterKey: e.PLUGBOARD_MASTER_KEY,
    oauthRedirectUris: e.PLUGBOARD_OAUTH_REDIRECT_URIS.split(',')
      .map((u) => u.trim())
      .filter(Boolean),
    metricsToken: e.PLUGBOARD_METRICS_TOKEN,
    sandbox: e.PLUGBOARD_SANDBOX,
    authFailures: {
      perAddress: e.PLUGBOARD_AUTH_FAILURES_PER_ADDRESS,
      perCredential: e.PLUGBOARD_AUTH_FAILURES_PER_CREDENTIAL,
      windowMs: e.PLUGBOARD_AUTH_FAILURE_WINDOW_SECONDS * 1000,
    },
    shutdownGraceMs: e.PLUGBOARD_SHUTDOWN_GRACE_MS,
    // On PostgreSQL the heap is most of the process, and 25 % keeps an API process under 150 MB at
    // about 10 % more CPU per write; PGlite's memory is mostly the engine's, which the bound does not
    // shrink, so there 50 % keeps the CPU (docs/benchmarks.md, "The built server's memory").
    heapGrowthPercent: e.PLUGBOARD_HEAP_GROWTH_PERCENT ?? (e.DATABASE_URL ? 25 : 50),
    refresh: {
      workerInProcess: e.PLUGBOARD_REFRESH_WORKER,
      concurrency: e.PLUGBOARD_REFRESH_CONCURRENCY,
      pollMs: e.PLUGBOARD_REFRESH_POLL_MS,
      // Longer than any one refresh can take (the provider timeout), with room for the bookkeeping.
      leaseMs: Math.max(60_000, e.PLUGBOARD_PROVIDER_TIMEOUT_MS + 10_000),
    },
    webhooks: {
      workerInProcess: e.PLUGBOARD_WEBHOOK_WORKER,
      allowedRanges: e.PLUGBOARD_WEBHOOK_ALLOWED_RANGES,
      timeoutMs: e.PLUGBOARD_WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.PLUGBOARD_WEBHOOK_RETRY_BASE_MS,
      maxAttempts: e.PLUGBOARD_WEBHOOK_MAX_ATTEMPTS,
      secretOverlapSeconds: e.PLUGBOARD_WEBHOOK_SECRET_OVERLAP_SECONDS,
      pollMs: e.PLUGBOARD_WEBHOOK_POLL_MS,
      concurrency: e.PLUGBOARD_WEBHOOK_CONCURRENCY,
      retentionDays: e.PLUGBOARD_WEBHOOK_RETENTION_DAYS,
    },
    console: {
      idleMinutes: e.PLUGBOARD_CONSOLE_IDLE_MINUTES,
      absoluteHours: e.PLUGBOARD_CONSOLE_SESSION_HOURS,
      maxFailures: e.PLUGBOARD_CONSOLE_MAX_FAILED_SIGN_INS,
      lockoutSeconds: e.PLUGBOARD_CONSOLE_LOCKOUT_SECONDS,
    },
  };
}
