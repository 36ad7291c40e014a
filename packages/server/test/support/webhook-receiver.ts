import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on arbitrary JSON payloads.
  json: any;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Resolves once `predicate` holds for what arrived, or rejects after `deadlineMs` with what did. */
  waitFor(
    predicate: (received: ReceivedWebhook[]) => boolean,
    deadlineMs?: number,
  ): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1. `answer` picks the status for each delivery (default 204); it may
 * be async to hold a delivery open. Every request is recorded with its raw body, as signed.
 */
export async function startWebhookReceiver(
  answer: (hook: ReceivedWebhook, index: number) => number | Promise<number> = () => 204,
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const hook = { headers: req.headers, body, json, at: Date.now() };
      received.push(hook);
      const status = await answer(hook, received.length - 1);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    waitFor: async (predicate, deadlineMs = 15_000) => {
      const end = Date.now() + deadlineMs;
      while (!predicate(received)) {
        if (Date.now() > end) {
          throw new Error(
            `webhooks did not arrive in time; got ${received.length}: ${received.map((r) => r.json?.event).join(', ')}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return received;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
