import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { Backend } from './backends.ts';
import { type FakeProvider, startFakeProvider } from './fake-provider.ts';
import { call, startTestServer, type TestServer } from './server.ts';
import { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';
import { WEBHOOK_ENV } from './webhooks.ts';

// The stand the inbound-event suites share (inbound-events.test.ts, inbound-refusals.test.ts): a
// server with webhooks on, two projects each with a receiver endpoint, and auth configs for GitHub
// and Zendesk (which sign their events) and Attio (which declares no signature).

export const githubSignature = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
export const zendeskSignature = (secret: string, timestamp: string, body: string) =>
  createHmac('sha256', secret)
    .update(timestamp + body)
    .digest('base64');

export interface InboundStand {
  server: TestServer;
  /** The providers' API, for the credential checks of the connect form: anything but "bad" passes. */
  provider: FakeProvider;
  /** Project A's endpoint, subscribed to account.provider_event only. */
  receiver: WebhookReceiver;
  /** Project B's endpoint, subscribed to everything. */
  otherReceiver: WebhookReceiver;
  key: string;
  otherKey: string;
  otherEndpoint: string;
  /** Project A's auth config ids by connector key: github, zendesk, attio. */
  integrations: Record<string, string>;
  /** The signing secrets of the endpoints of project A and B. */
  secrets: { a?: string; b?: string };
  /** A session for one end customer; returns its trigger token and, once connected, the account. */
  connect(
    apiKey: string,
    integrationId: string,
    credentials: Record<string, string> | undefined,
    owner?: string,
  ): Promise<{ trigger: string; accountId: string | undefined }>;
  /** What the provider stand-in sends: raw bytes, its own headers, to the trigger URL. */
  providerPosts(
    token: string,
    body: string | Buffer,
    headers: Record<string, string>,
    // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, read field by field by the tests
  ): Promise<{ status: number; headers: Headers; body: any }>;
  storedProviderEvents(): Promise<number>;
  /** The delivery to project A of the GitHub event with this X-GitHub-Delivery. */
  deliveryOf(delivery: string): Promise<ReceivedWebhook>;
}

/** Starts the stand before the tests of the enclosing describe and stops it after them. */
export function useInboundStand(backend: Backend): InboundStand {
  const stand = { integrations: {}, secrets: {} } as InboundStand;

  before(async () => {
    stand.provider = await startFakeProvider((req) =>
      /bad/.test(
        Buffer.from(req.headers.authorization?.split(' ')[1] ?? '', 'base64').toString() +
          req.headers.authorization,
      )
        ? { status: 401, body: { message: 'bad credentials' } }
        : { status: 200, body: { ok: true } },
    );
    stand.receiver = await startWebhookReceiver();
    stand.otherReceiver = await startWebhookReceiver();
    stand.server = await startTestServer(
      backend,
      {
        ...WEBHOOK_ENV,
        // The throttle test counts failures of one token; the address limit stays out of its way.
        PLUGBOARD_AUTH_FAILURES_PER_CREDENTIAL: '8',
        PLUGBOARD_AUTH_FAILURES_PER_ADDRESS: '1000',
      },
      { webhooks: true },
    );
    const { server } = stand;
    stand.key = (await server.newProject('Inbound A')).api_key;
    stand.otherKey = (await server.newProject('Inbound B')).api_key;
    for (const [connector, method] of [
      ['github', 'access_token'],
      ['zendesk', 'api_token'],
      ['attio', undefined],
    ] as const) {
      const res = await call(server, 'POST', '/auth_configs', {
        key: stand.key,
        body: {
          connector_key: connector,
          ...(method ? { authentication_config_key: method } : {}),
          urls: { api_base_url: stand.provider.url },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      stand.integrations[connector] = res.body.id;
    }
    const endpoint = await call(server, 'POST', '/webhook_endpoints', {
      key: stand.key,
      body: { url: stand.receiver.url, events: ['account.provider_event'] },
    });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    stand.secrets.a = endpoint.body.secret;
    const otherHook = await call(server, 'POST', '/webhook_endpoints', {
      key: stand.otherKey,
      body: { url: stand.otherReceiver.url },
    });
    assert.equal(otherHook.status, 201, JSON.stringify(otherHook.body));
    stand.otherEndpoint = otherHook.body.id;
    stand.secrets.b = otherHook.body.secret;
  });
  after(async () => {
    await stand.server?.close();
    await stand.receiver?.close();
    await stand.otherReceiver?.close();
    await stand.provider?.close();
  });

  stand.connect = async (apiKey, integrationId, credentials, owner = `owner-${randomUUID()}`) => {
    const session = await call(stand.server, 'POST', '/connect_sessions', {
      key: apiKey,
      body: { origin_owner_id: owner, origin_owner_name: 'Inbound Customer' },
    });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    const trigger = session.body.external_trigger_token as string;
    if (!credentials) return { trigger, accountId: undefined };
    const res = await call(stand.server, 'POST', '/hub/accounts', {
      headers: { 'x-hub-session-token': session.body.token, 'x-hub-version': '1' },
      body: { integration_id: integrationId, credentials },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { trigger, accountId: res.body.id as string };
  };

  stand.providerPosts = async (token, body, headers) => {
    const res = await fetch(`${stand.server.url}/webhooks/inbound/${token}`, {
      method: 'POST',
      headers,
      body,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };

  stand.storedProviderEvents = async () => {
    const row = await stand.server.database.db
      .selectFrom('webhook_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('type', '=', 'account.provider_event')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };

  stand.deliveryOf = (delivery) =>
    stand.receiver
      .waitFor((r) => r.some((h) => h.json?.provider_event?.headers?.['x-github-delivery'] === delivery))
      .then((r) => r.find((h) => h.json?.provider_event?.headers?.['x-github-delivery'] === delivery)!);

  return stand;
}

/** A refusal in the wire error shape: { statusCode, message, timestamp }. */
export function assertWireError(res: { status: number; body: unknown }, status: number) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  const body = res.body as { statusCode: number; message: string; timestamp: string };
  assert.equal(body.statusCode, status);
  assert.equal(typeof body.message, 'string');
  assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
}
