import { z } from 'zod';
import { isoDateTime } from './common.ts';

/** Wire shapes of the console's key rotation job (/console/api/system/key_rotation). */
export const keyRotationStartBody = z.strictObject({
  /** rotate: add a key version and re-encrypt; finish: re-encrypt what is still under older versions. */
  mode: z.enum(['rotate', 'finish']),
  /** Rows per transaction, as `plugboard rotate-key --batch-size`. */
  batch_size: z.number().int().min(1).max(10_000).optional(),
});

const example = {
  id: 'rot_5f0c2b7e9a1d4c3b8e6f',
  mode: 'rotate',
  status: 'finished',
  started_by: 'ops@example.com',
  started_at: '2026-11-30T16:00:00.000Z',
  finished_at: '2026-11-30T16:00:03.000Z',
  version: 2,
  tables: [
    { table: 'linked_accounts', total: 420, reencrypted: 419, failed: 1, remaining: 1 },
    { table: 'integrations', total: 3, reencrypted: 3, failed: 0, remaining: 0 },
    { table: 'webhook_endpoints', total: 2, reencrypted: 2, failed: 0, remaining: 0 },
  ],
  failed_rows: [
    {
      table: 'linked_accounts',
      id: 'acc_0f3a9c1e2b4d6f80',
      code: 'decrypt_failed',
      message: 'Decryption with key version 1 failed: the stored value was altered.',
    },
  ],
  error: null,
};

export const keyRotationJob = z
  .object({
    id: z.string(),
    mode: z.enum(['rotate', 'finish']),
    status: z.enum(['running', 'finished', 'failed', 'interrupted']),
    started_by: z.string(),
    started_at: isoDateTime,
    finished_at: isoDateTime.nullable(),
    version: z.number().int().nullable(),
    tables: z.array(
      z.object({
        table: z.string(),
        total: z.number().int(),
        reencrypted: z.number().int(),
        failed: z.number().int(),
        remaining: z.number().int().nullable(),
      }),
    ),
    failed_rows: z.array(
      z.object({ table: z.string(), id: z.string(), code: z.string(), message: z.string() }),
    ),
    error: z.string().nullable(),
  })
  .meta({ examples: [example] });

export const keyRotationState = z
  .object({ job: keyRotationJob.nullable() })
  .meta({ examples: [{ job: example }] });
