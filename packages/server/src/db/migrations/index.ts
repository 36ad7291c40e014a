import type { Migration } from 'kysely';
import * as m0001 from './0001_tenancy_and_sessions.ts';
import * as m0002 from './0002_integrations_accounts_vault.ts';
import * as m0003 from './0003_session_allowed_origins.ts';
import * as m0004 from './0004_oauth_connection_attempts.ts';
import * as m0005 from './0005_webhooks.ts';
import * as m0006 from './0006_accounts_provider_index.ts';
import * as m0007 from './0007_oauth_binding_refresh_backoff.ts';
import * as m0008 from './0008_inbound_events.ts';
import * as m0009 from './0009_sandbox.ts';
import * as m0010 from './0010_console.ts';
import * as m0011 from './0011_refresh_claims_account_import.ts';
import * as m0012 from './0012_data_plane.ts';
import * as m0013 from './0013_read_caches.ts';
import * as m0014 from './0014_key_rotation_jobs.ts';
import * as m0015 from './0015_key_ring_notice.ts';

/** Every migration in order. Names are stored in the database: never rename or reorder them. */
export const migrations: Record<string, Migration> = {
  '0001_tenancy_and_sessions': m0001,
  '0002_integrations_accounts_vault': m0002,
  '0003_session_allowed_origins': m0003,
  '0004_oauth_connection_attempts': m0004,
  '0005_webhooks': m0005,
  '0006_accounts_provider_index': m0006,
  '0007_oauth_binding_refresh_backoff': m0007,
  '0008_inbound_events': m0008,
  '0009_sandbox': m0009,
  '0010_console': m0010,
  '0011_refresh_claims_account_import': m0011,
  '0012_data_plane': m0012,
  '0013_read_caches': m0013,
  '0014_key_rotation_jobs': m0014,
  '0015_key_ring_notice': m0015,
};
