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
  validation?: { type: string; pattern: string; error: string };
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
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

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
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) throw new HubError(res.status, json?.message ?? res.statusText, json?.provider_response);
    return json as T;
  }

  settings() {
    return this.request<{ enabled_features: string[]; existing_account_id?: string }>('GET', '/hub/settings');
  }
  connectors() {
    return this.request<{ integrations: HubIntegration[]; external_trigger_token?: string }>(
      'GET',
      '/hub/connectors',
    );
  }
  connector(integrationId: string) {
    return this.request<HubConnectorConfig>('GET', `/hub/connectors/${encodeURIComponent(integrationId)}`);
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
