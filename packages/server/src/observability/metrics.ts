import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/database.ts';
import { countDueRefreshes } from '../services/refresh-worker.ts';
import { HttpStats } from './http-stats.ts';

/**
 * Prometheus metrics of one process. A registry per instance (not prom-client's global one), so tests
 * and several apps in one process do not collide.
 */
export interface Metrics {
  registry: Registry;
  /** Requests by route template: plugboard_http_requests_total and plugboard_http_request_duration_seconds. */
  http: HttpStats;
  webhookDeliveries: Counter<'outcome'>;
  webhookDuration: Histogram;
  tokenRefreshes: Counter<'outcome'>;
  tokenRefreshLag: Histogram;
}

export function createMetrics(db: Db): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'plugboard_' });
  const metrics: Metrics = {
    registry,
    http: new HttpStats(
      registry,
      {
        name: 'plugboard_http_requests_total',
        help: 'HTTP requests answered, by route template and status code',
      },
      {
        name: 'plugboard_http_request_duration_seconds',
        help: 'Time to answer an HTTP request, by route template',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      },
    ),
    webhookDeliveries: new Counter({
      name: 'plugboard_webhook_delivery_attempts_total',
      help: 'Webhook sends by this process: succeeded, retry (failed, will be tried again) or failed (gave up)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookDuration: new Histogram({
      name: 'plugboard_webhook_delivery_duration_seconds',
      help: 'Time one webhook send took, until the receiver answered or the timeout',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    tokenRefreshes: new Counter({
      name: 'plugboard_token_refreshes_total',
      help: 'Background token refreshes by this process: refreshed, or failed (the account backs off)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    tokenRefreshLag: new Histogram({
      name: 'plugboard_token_refresh_lag_seconds',
      help: 'How long after entering the refresh margin (5 min before expiry) a token was refreshed; 0 = on time',
      buckets: [0, 1, 5, 15, 30, 60, 120, 300],
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'plugboard_token_refreshes_due',
    help: 'OAuth accounts inside the refresh margin and not in a failure backoff, across all processes',
    registers: [registry],
    async collect() {
      this.set(await countDueRefreshes(db));
    },
  });
  // Read at scrape time from the database, so it is the same whichever process is scraped.
  new Gauge({
    name: 'plugboard_webhook_deliveries_pending',
    help: 'Webhook deliveries waiting to be sent or retried, across all processes',
    registers: [registry],
    async collect() {
      const row = await db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow();
      this.set(Number(row.n));
    },
  });
  return metrics;
}
