import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { createSession } from './support/connect.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

const TOKEN = 'metrics-token-0123456789';

/** The value of one sample line, e.g. metric('plugboard_x_total{a="b"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const backend of backends()) {
  describe(`Prometheus metrics (${backend})`, () => {
    let server: TestServer;
    let receiver: WebhookReceiver;
    let key: string;

    before(async () => {
      receiver = await startWebhookReceiver();
      server = await startTestServer(
        backend,
        {
          PLUGBOARD_METRICS_TOKEN: TOKEN,
          PLUGBOARD_WEBHOOK_ALLOWED_RANGES: 'loopback',
          PLUGBOARD_WEBHOOK_POLL_MS: '50',
        },
        { webhooks: true },
      );
      key = (await server.newProject()).api_key;
    });
    after(async () => {
      await server.close();
      await receiver.close();
    });

    const scrape = () => call(server, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });

    test('requests are counted by route template, webhook sends by outcome', async () => {
      await call(server, 'POST', '/webhook_endpoints', { key, body: { url: receiver.url } });
      await createSession(server, key);
      await createSession(server, key);
      await call(server, 'GET', '/accounts/acc_secret_looking_id', { key });
      await receiver.waitFor((r) => r.length >= 2);

      const res = await scrape();
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = res.body as string;
      assert.equal(
        sample(text, 'plugboard_http_requests_total{method="POST",route="/connect_sessions",status="201"}'),
        2,
      );
      assert.equal(
        sample(text, 'plugboard_http_requests_total{method="GET",route="/accounts/:id",status="404"}'),
        1,
      );
      assert.ok(!text.includes('acc_secret_looking_id'), 'raw URLs never become labels');
      assert.ok(!text.includes(key), 'no API key in metrics');
      assert.match(
        text,
        /plugboard_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/connect_sessions"\}/,
      );
      // Sends are counted after the receiver answered; give the worker a moment to record them.
      let sent = 0;
      for (let i = 0; i < 100 && sent < 2; i++) {
        sent =
          sample((await scrape()).body, 'plugboard_webhook_delivery_attempts_total{outcome="succeeded"}') ??
          0;
        if (sent < 2) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(sent, 2);
      assert.equal(sample((await scrape()).body, 'plugboard_webhook_deliveries_pending'), 0);
      assert.match(text, /^plugboard_process_cpu_user_seconds_total /m);
    });

    test('the token guards /metrics when configured', async () => {
      for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`]) {
        const res = await call(server, 'GET', '/metrics', {
          headers: authorization ? { authorization } : {},
        });
        assert.equal(res.status, 401, String(authorization));
        assert.equal(res.body.statusCode, 401);
        assert.match(res.body.message, /PLUGBOARD_METRICS_TOKEN/);
      }
    });
  });
}
