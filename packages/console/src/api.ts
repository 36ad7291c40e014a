/**
 * The console API client. The session lives in an HttpOnly cookie; the CSRF token, which unsafe
 * requests must carry, comes from signing in or from GET /session after a reload.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: string[] = [],
  ) {
    super(message);
  }
}

let csrfToken = '';
export const setCsrfToken = (token: string) => {
  csrfToken = token;
};

/** Called when any request finds the operator signed out, so the app can show the sign-in form. */
let onSignedOut: () => void = () => {};
export const whenSignedOut = (fn: () => void) => {
  onSignedOut = fn;
};

const base = new URL('api/', document.baseURI).pathname;

// biome-ignore lint/suspicious/noExplicitAny: callers name the shapes they read.
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  return (await request<T>(method, path, body)).data;
}

/** One page of a keyset-paged list (GET /accounts): its rows and the cursor of the next page, if any. */
export interface Page<T> {
  items: T[];
  next?: string;
}

export async function apiPage<T>(path: string): Promise<Page<T>> {
  const { data, headers } = await request<T[]>('GET', path);
  return { items: data, next: headers.get('x-next-cursor') ?? undefined };
}

async function request<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ data: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(base + path.replace(/^\//, ''), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'Plugboard could not be reached. Check that the server is running and try again.');
  }
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    if (res.status === 401 && path !== 'session') onSignedOut();
    const retry = res.headers.get('retry-after');
    const message = data?.message ?? `Request failed with status ${res.status}.`;
    throw new ApiError(
      res.status,
      retry && !/Wait/.test(message) ? `${message} (retry in ${retry} s)` : message,
      data?.errors,
    );
  }
  return { data: data as T, headers: res.headers };
}

/** Query string from an object, skipping empty values. */
export function qs(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
