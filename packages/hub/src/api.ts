/** The hub protocol (DESIGN §2), as the element uses it. Every call carries the session token. */

export interface HubIntegration {
  active: boolean;
  name: string;
  provider: string;
  type: string;
  version: string;
  authentication_config_key: string;
  environment: string;
  integration_id: string;
  logo_url: string;
}

export interface HubField {
  key: string;
  label: string;
  type: 'text' | 'password' | 'number' | 'select' | 'text_area';
  required: boolean;
  readOnly: boolean;
  secret: boolean;
  placeholder: string;
  options?: Array<{ label: string; value: string }>;
  description?: string;
  /** The wire form is StackOne's `{ type: 'html-pattern', pattern, error }`; connector files say `message`. */
  validation?: { type?: string; pattern: string; error?: string; message?: string };
}

export interface HubConnectorConfig {
  config: {
    key: string;
    name: string;
    type: 'custom' | 'oauth2';
    grantType?: string;
    configFields: HubField[];
    configNotices?: string[];
    assets: { icon: string };
    support: { link: string; description: string } | null;
  };
}

export interface HubAccount {
  secureId: string;
  provider: string;
  setupInformation: Record<string, unknown>;
  secrets: Record<string, string>;
  integrationId: string;
}

export interface HubAttempt {
  id: string;
  status: 'pending' | 'authenticated' | 'error' | 'cancelled' | 'expired';
  account: { id: string } | null;
  error: { code: string; description: string } | null;
}

export class HubError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly providerResponse?: string,
  ) {
    super(message);
  }
}

export class HubClient {
  /** The hub's language: connector names and forms are asked for in it (English needs no parameter). */
  lang = 'en';

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private langQuery() {
    return this.lang === 'en' ? '' : `?lang=${encodeURIComponent(this.lang)}`;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl.replace(/\/+$/, '') + path, {
        method,
        headers: {
          'content-type': 'application/json',
          'x-hub-session-token': this.token,
          'x-hub-version': '1',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new HubError(0, 'network');
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const body = (json ?? {}) as { message?: unknown; provider_response?: unknown };
      const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
      // provider_response is a string on the wire; tolerate a server that sends the raw JSON answer.
      const answer = body.provider_response;
      const provider = answer && typeof answer === 'object' ? JSON.stringify(answer) : str(answer);
      throw new HubError(res.status, str(body.message) ?? res.statusText, provider);
    }
    return json as T;
  }

  settings() {
    return this.request<{ enabled_features: string[]; existing_account_id?: string }>('GET', '/hub/settings');
  }
  connectors() {
    return this.request<{ integrations: HubIntegration[]; external_trigger_token?: string }>(
      'GET',
      `/hub/connectors${this.langQuery()}`,
    );
  }
  connector(integrationId: string) {
    return this.request<HubConnectorConfig>(
      'GET',
      `/hub/connectors/${encodeURIComponent(integrationId)}${this.langQuery()}`,
    );
  }
  account(id: string) {
    return this.request<HubAccount>('GET', `/hub/accounts/${encodeURIComponent(id)}`);
  }
  createAccount(integrationId: string, credentials: Record<string, string>) {
    return this.request<{ id: string; provider: string }>('POST', '/hub/accounts', {
      integration_id: integrationId,
      credentials,
    });
  }
  createAttempt() {
    return this.request<{ id: string }>('POST', '/hub/connection_attempts', { token: this.token });
  }
  attempt(id: string) {
    return this.request<HubAttempt>('GET', `/hub/connection_attempts/${encodeURIComponent(id)}`);
  }
  cancelAttempt(id: string) {
    return this.request<void>('DELETE', `/hub/connection_attempts/${encodeURIComponent(id)}`);
  }
  /** The OAuth start page for a popup: a plain navigation, so the token travels in the query string. */
  oauthUrl(integrationId: string, attemptId: string, fields: Record<string, string>) {
    const base = this.baseUrl.replace(/\/+$/, '');
    const url = new URL(`${base}/connect/oauth2/${encodeURIComponent(integrationId)}`);
    url.searchParams.set('redirect_uri', `${base}/embedded/accounts/callback`);
    url.searchParams.set('token', this.token);
    url.searchParams.set('connection_attempt_id', attemptId);
    for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
    return url.toString();
  }
  updateAccount(id: string, integrationId: string, credentials: Record<string, string>) {
    return this.request<{ id: string; provider: string }>(
      'PATCH',
      `/hub/accounts/${encodeURIComponent(id)}`,
      {
        integration_id: integrationId,
        credentials,
      },
    );
  }
}
