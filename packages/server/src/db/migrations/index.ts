import type { Migration } from 'kysely';
import * as m0001 from './0001_tenancy_and_sessions.ts';

/** Every migration in order. Names are stored in the database: never rename or reorder them. */
export const migrations: Record<string, Migration> = {
  '0001_tenancy_and_sessions': m0001,
};
