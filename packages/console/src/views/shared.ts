export interface Account {
  id: string;
  provider: string;
  provider_name: string | null;
  status: string;
  status_reasons: Array<{ code: string; description: string; timestamp: string }> | null;
  origin_owner_id: string;
  origin_owner_name: string;
  origin_username: string | null;
  credentials: Record<string, unknown> | null;
  setup_information: Record<string, unknown> | null;
  label: string | null;
  type: string | null;
  integration_id: string | null;
  metadata: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

export interface Attempt {
  id: string;
  status: string;
  account: { id: string } | null;
  error: { code: string; description: string } | null;
  connect_session_id: number;
  origin_owner_id: string;
  provider: string | null;
  created_at: string;
  updated_at: string;
}

export const ACCOUNT_STATUSES = ['active', 'inactive', 'suspended', 'archived', 'expired', 'error'];

export const json = (value: unknown) => JSON.stringify(value, null, 2);
