import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export interface FakeProvider {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A provider API on 127.0.0.1 for credential checks: `answer` decides each response, every request is
 * recorded so tests can assert what Plugboard sent (and that nothing was sent when it should not be).
 */
export async function startFakeProvider(
  answer: (
    req: RecordedRequest,
  ) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>,
): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const recorded = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    requests.push(recorded);
    const { status, body } = await answer(recorded);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
