import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Row types of every table, as Kysely sees them. Migrations are the source of truth for the DDL. */
export interface Database {
  organizations: OrganizationsTable;
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  connect_sessions: ConnectSessionsTable;
  encryption_keys: EncryptionKeysTable;
  integrations: IntegrationsTable;
  linked_accounts: LinkedAccountsTable;
  connection_attempts: ConnectionAttemptsTable;
  oauth_states: OAuthStatesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
  sandbox_oauth_codes: SandboxOAuthCodesTable;
  sandbox_oauth_grants: SandboxOAuthGrantsTable;
  sandbox_oauth_tokens: SandboxOAuthTokensTable;
  operators: OperatorsTable;
  console_sessions: ConsoleSessionsTable;
  console_sign_in_failures: ConsoleSignInFailuresTable;
  audit_log: AuditLogTable;
  key_rotation_jobs: KeyRotationJobsTable;
}

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** jsonb columns: written as JSON text (same on pg and PGlite), read back as parsed values. */
type Json<T> = ColumnType<T, string, string>;
/** bigint ids come back as strings from pg and as numbers from PGlite; callers use Number(). */
type BigId = ColumnType<string | number | bigint, never, never>;

export interface OrganizationsTable {
  id: Generated<BigId>;
  name: string;
  created_at: CreatedAt;
}

export interface ProjectsTable {
  id: string;
  organization_id: ColumnType<string | number | bigint, number, never>;
  name: string;
  created_at: CreatedAt;
}

export interface ApiKeysTable {
  id: string;
  project_id: string;
  key_hash: string;
  /** The first characters of the key, so people can tell keys apart in listings. */
  key_hint: string;
  name: string | null;
  created_at: CreatedAt;
  revoked_at: Timestamp | null;
}

export interface ConnectSessionsTable {
  id: Generated<BigId>;
  organization_id: ColumnType<string | number | bigint, number, never>;
  project_id: string;
  token_hash: string;
  origin_owner_id: string;
  origin_owner_name: string;
  origin_username: string | null;
  categories: Json<string[]> | null;
  provider: string | null;
  provider_version: string | null;
  integration_id: string | null;
  account_id: string | null;
  label: string | null;
  metadata: Json<Record<string, unknown>> | null;
  type: string;
  multiple: boolean;
  external_trigger_token: string;
  allowed_origins: Json<string[]> | null;
  webhook_url: ColumnType<string | null, string | null | undefined, string | null>;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface EncryptionKeysTable {
  version: number;
  wrapped_key: string;
  created_at: CreatedAt;
  retired_at: Timestamp | null;
}

export interface IntegrationsTable {
  id: string;
  project_id: string;
  connector_key: string;
  name: string;
  auth_method: string;
  active: boolean;
  is_default: boolean;
  environment: string;
  oauth_client_id: string | null;
  oauth_client_secret_enc: string | null;
  oauth_scopes: Json<string[]> | null;
  urls: Json<Record<string, string>> | null;
  key_version: number | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface LinkedAccountsTable {
  id: string;
  organization_id: ColumnType<string | number | bigint, number, never>;
  project_id: string;
  integration_id: string | null;
  provider: string;
  origin_owner_id: string;
  origin_owner_name: string;
  origin_username: string | null;
  label: string | null;
  type: string | null;
  status: string;
  status_reasons: Json<Array<{ code: string; description: string; timestamp: string }>> | null;
  setup_information: Json<Record<string, unknown>> | null;
  metadata: Json<Record<string, unknown>> | null;
  credentials_enc: string | null;
  key_version: number | null;
  token_expires_at: Timestamp | null;
  refresh_failures: ColumnType<number, number | undefined, number>;
  /** Set after a failed refresh: until then reads do not call the token endpoint again. */
  refresh_retry_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** A refresh worker's claim: other workers skip the account until then. */
  refresh_claimed_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The account's id in the system it was imported from; unique per project and integration. */
  external_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ConnectionAttemptsTable {
  id: string;
  project_id: string;
  session_id: ColumnType<string | number | bigint, number, never>;
  origin_owner_id: string;
  integration_id: string | null;
  provider: string | null;
  status: string;
  account_id: string | null;
  error_code: string | null;
  error_description: string | null;
  expires_at: Timestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface OAuthStatesTable {
  state_hash: string;
  attempt_id: string;
  integration_id: string;
  redirect_uri: string;
  code_verifier_enc: string;
  settings: Json<Record<string, string>> | null;
  /** SHA-256 of the nonce in the starting browser's cookie; null for flows started before it existed. */
  browser_binding_hash: string | null;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export interface WebhookEndpointsTable {
  id: string;
  project_id: string;
  url: string;
  description: string | null;
  /** Event types delivered; null means every event. */
  events: Json<string[]> | null;
  enabled: boolean;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_expires_at: Timestamp | null;
  key_version: number | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface WebhookEventsTable {
  id: string;
  project_id: string;
  type: string;
  payload: Json<Record<string, unknown>>;
  created_at: CreatedAt;
}

export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  endpoint_id: string;
  url_override: string | null;
  status: ColumnType<string, string | undefined, string>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  delivered_at: Timestamp | null;
  replay_of: string | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface WebhookDeliveryAttemptsTable {
  id: Generated<BigId>;
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_body: string | null;
  created_at: CreatedAt;
}

/** How a sandbox refresh made to fail fails: a definite refusal, or an outage. */
export type SandboxRefreshError = 'invalid_grant' | 'temporarily_unavailable';

/** The built-in sandbox provider's authorization server (src/sandbox/). */
export interface SandboxOAuthCodesTable {
  code_hash: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export interface SandboxOAuthGrantsTable {
  id: string;
  client_id: string;
  scope: string;
  failing_refreshes: ColumnType<number, number | undefined, number>;
  failing_refresh_error: ColumnType<
    SandboxRefreshError,
    SandboxRefreshError | undefined,
    SandboxRefreshError
  >;
  created_at: CreatedAt;
}

export interface SandboxOAuthTokensTable {
  token_hash: string;
  grant_id: string;
  kind: 'access' | 'refresh';
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface OperatorsTable {
  id: string;
  email: string;
  /** scrypt$N$r$p$salt$hash (base64url). */
  password_hash: string;
  must_change_password: boolean;
  created_at: CreatedAt;
  password_changed_at: Timestamp | null;
}

export interface ConsoleSessionsTable {
  id_hash: string;
  operator_id: string;
  csrf_token_hash: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ConsoleSignInFailuresTable {
  /** 'ip:<address>' or 'email:<address>'. */
  subject: string;
  failures: number;
  window_started_at: Timestamp;
}

export interface AuditLogTable {
  id: Generated<BigId>;
  project_id: string | null;
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  before: Json<Record<string, unknown>> | null;
  after: Json<Record<string, unknown>> | null;
  created_at: CreatedAt;
}

/** How far a key rotation job got in one table; `remaining` is set when it ends. */
export interface KeyRotationTableProgress {
  table: string;
  /** Rows under an older key when the run started (raised if it found more). */
  total: number;
  reencrypted: number;
  failed: number;
  /** Rows still under an older key when the run ended. */
  remaining: number | null;
}

export interface KeyRotationJobsTable {
  id: string;
  mode: 'rotate' | 'finish';
  status: 'running' | 'finished' | 'failed' | 'interrupted';
  started_by: string;
  started_at: CreatedAt;
  heartbeat_at: ColumnType<Date, Date | string | undefined, Date | string>;
  finished_at: Timestamp | null;
  version: number | null;
  tables: ColumnType<KeyRotationTableProgress[], string | undefined, string>;
  failed_rows: ColumnType<
    Array<{ table: string; id: string; code: string; message: string }>,
    string | undefined,
    string
  >;
  error: string | null;
}

export type OperatorRow = Selectable<OperatorsTable>;
export type KeyRotationJobRow = Selectable<KeyRotationJobsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type ConnectionAttemptRow = Selectable<ConnectionAttemptsTable>;
export type IntegrationRow = Selectable<IntegrationsTable>;
export type LinkedAccountRow = Selectable<LinkedAccountsTable>;
export type ProjectRow = Selectable<ProjectsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type ConnectSessionRow = Selectable<ConnectSessionsTable>;
export type NewConnectSession = Insertable<ConnectSessionsTable>;
