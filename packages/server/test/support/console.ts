import { createOperator } from '../../src/services/console/operators.ts';
import type { TestServer } from './server.ts';

/** A console client: keeps the session cookie and CSRF token like the SPA does. */
export class ConsoleClient {
  cookie = '';
  csrf = '';
  constructor(readonly server: TestServer) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    // biome-ignore lint/suspicious/noExplicitAny: tests assert on arbitrary JSON shapes.
  ): Promise<{ status: number; headers: Headers; body: any }> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrf;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(`${this.server.url}/console/api${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  }

  async signIn(email: string, password: string) {
    const res = await this.call('POST', '/session', { email, password });
    if (res.status === 201) this.csrf = res.body.csrf_token;
    return res;
  }
}

/** An operator who has already chosen their password (no one-time password to change). */
export async function operatorWithPassword(
  server: TestServer,
  email: string,
  password = 'correct horse battery',
) {
  await createOperator(server.database.db, { email, password });
  return { email, password };
}
