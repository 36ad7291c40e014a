import net from 'node:net';

/** One HTTP/1.1 request as bytes: nothing is checked or normalised, so hostile input reaches the server. */
export interface RawRequest {
  method: string;
  /** The request target exactly as sent (latin1: every char up to \xff is one byte). */
  target: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  /** Leave out content-length (framing tests add their own, or none). */
  noContentLength?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function requestBytes(host: string, req: RawRequest): Buffer {
  const lines = [`${req.method} ${req.target} HTTP/1.1`, `host: ${host}`, 'connection: close'];
  for (const [name, value] of req.headers) lines.push(`${name}: ${value}`);
  if (req.body && !req.noContentLength) lines.push(`content-length: ${req.body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return req.body ? Buffer.concat([head, req.body]) : head;
}

/**
 * Sends the bytes on a fresh connection ("connection: close") and reads the answer until the server
 * closes it. Rejects when nothing complete arrives within `timeoutMs`: a hung request is a finding.
 */
export function sendRaw(url: string, bytes: Buffer, timeoutMs = 15_000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: hostname, port: Number(port) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // The server may close while we still write (it answered early, e.g. 413): keep what it sent.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    // No half-close: Node's server drops a request whose client has ended its side; "connection:
    // close" makes the server close once it has answered.
    socket.write(bytes);
  });
}

function parseResponse(raw: Buffer): RawResponse {
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0)
      throw new Error(`incomplete response: ${JSON.stringify(rest.toString('latin1').slice(0, 300))}`);
    const [statusLine = '', ...headerLines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!status) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.subarray(end + 4);
    // Interim answers (100 Continue) precede the real one.
    if (status < 200 && status >= 100) continue;
    let body = rest;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(rest);
    else if (headers['content-length'] !== undefined)
      body = rest.subarray(0, Number(headers['content-length']));
    return { status, headers, body };
  }
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!size) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
