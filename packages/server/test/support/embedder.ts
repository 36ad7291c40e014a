import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A third-party web page on its own origin (another port of 127.0.0.1) that embeds a hub: what an
 * integrator's front end looks like to the browser, CORS included.
 */
export async function startEmbedder(pages: Record<string, { type: string; body: string | Buffer }>) {
  const server = createServer((req, res) => {
    const page = pages[(req.url ?? '/').split('?')[0]!];
    if (!page) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': page.type }).end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
