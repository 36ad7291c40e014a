import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, openMetricsContentType, Registry, type RegistryContentType } from 'prom-client';
import { HttpStats } from '../src/observability/http-stats.ts';

const requests = { name: 'x_http_requests_total', help: 'requests' };
const duration = { name: 'x_http_request_duration_seconds', help: 'duration', buckets: [0.005, 0.05, 1] };

/** The same requests through HttpStats and through prom-client's own classes, as before. */
function both(contentType?: typeof openMetricsContentType) {
  const ours = new Registry<RegistryContentType>();
  const stats = new HttpStats(ours, requests, duration);
  const theirs = new Registry<RegistryContentType>();
  if (contentType) for (const registry of [ours, theirs]) registry.setContentType(contentType);
  const counter = new Counter({
    ...requests,
    labelNames: ['method', 'route', 'status'],
    registers: [theirs],
  });
  const histogram = new Histogram({ ...duration, labelNames: ['method', 'route'], registers: [theirs] });
  const record = (method: string, route: string, status: number, seconds: number) => {
    stats.record(method, route, status, seconds);
    counter.inc({ method, route, status: String(status) });
    histogram.observe({ method, route }, seconds);
  };
  return { ours, theirs, record };
}

test('the exposition is what prom-client wrote for the same requests, bucket edges included', async () => {
  const { ours, theirs, record } = both();
  record('POST', '/connect_sessions', 201, 0.004);
  record('POST', '/connect_sessions', 201, 0.005); // on a bound: counted in it, as prom-client does
  record('POST', '/connect_sessions', 400, 0.2);
  record('GET', '/accounts/:id', 404, 3); // above every bound: only +Inf
  record('GET', 'unmatched', 404, 0.05);
  record('POST', '/connect_sessions', 500, 0.01); // a new status of a route seen before: listed last
  const text = await ours.metrics();
  assert.equal(text, await theirs.metrics());
  assert.match(text, /^x_http_requests_total\{method="POST",route="\/connect_sessions",status="201"\} 2$/m);
  assert.match(
    text,
    /^x_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/accounts\/:id"\} 1$/m,
  );
  // The JSON form too (cluster aggregation reads it), but for prom-client's empty exemplar fields.
  const withoutExemplars = (json: unknown) =>
    JSON.parse(JSON.stringify(json).replaceAll(',"exemplar":null', '').replaceAll('"exemplar":null,', ''));
  assert.deepEqual(
    withoutExemplars(await ours.getMetricsAsJSON()),
    withoutExemplars(await theirs.getMetricsAsJSON()),
  );
});

test('OpenMetrics and reset behave as with prom-client', async () => {
  const { ours, theirs, record } = both(openMetricsContentType);
  record('GET', '/hub/settings', 200, 0.001);
  assert.equal(await ours.metrics(), await theirs.metrics());
  ours.resetMetrics();
  theirs.resetMetrics();
  assert.equal(await ours.metrics(), await theirs.metrics());
  record('GET', '/hub/settings', 200, 0.3);
  assert.equal(await ours.metrics(), await theirs.metrics());
});
