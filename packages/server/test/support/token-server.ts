import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenServerAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface TokenServer {
  url: string;
  /** Refresh grants answered with a token, per refresh token presented. */
  refreshes: Map<string, number>;
  /** Every refresh request (answered or refused), with when it arrived. */
  requests: Array<{ refreshToken: string; at: number }>;
  /** Overrides the answer to the next requests while set (a 429, a 503…). */
  answer?: (refreshToken: string) => TokenServerAnswer | undefined;
  close(): Promise<void>;
}

/**
 * A stand-in authorization server's token endpoint on 127.0.0.1: answers refresh grants after
 * `delayMs` with a new access token valid `expiresIn` seconds, keeps the refresh token (no rotation),
 * and counts refreshes per refresh token.
 */
export async function startTokenServer(
  options: { delayMs?: number; expiresIn?: number } = {},
): Promise<TokenServer> {
  const { delayMs = 0, expiresIn = 3600 } = options;
  const state: TokenServer = {
    url: '',
    refreshes: new Map(),
    requests: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const refreshToken = form.get('refresh_token') ?? '';
      state.requests.push({ refreshToken, at: Date.now() });
      setTimeout(() => {
        const override = state.answer?.(refreshToken);
        const answer: TokenServerAnswer =
          override ??
          (form.get('grant_type') === 'refresh_token' && refreshToken
            ? {
                status: 200,
                body: {
                  access_token: `at_${randomBytes(8).toString('hex')}`,
                  token_type: 'Bearer',
                  expires_in: expiresIn,
                },
              }
            : { status: 400, body: { error: 'unsupported_grant_type' } });
        if (answer.status === 200) {
          state.refreshes.set(refreshToken, (state.refreshes.get(refreshToken) ?? 0) + 1);
        }
        res.writeHead(answer.status, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
          ...answer.headers,
        });
        res.end(JSON.stringify(answer.body));
      }, delayMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
