import { z } from 'zod';
import { EXAMPLE } from './examples.ts';

/** What the hub and POST /connect_sessions/authenticate show of an attempt. */
export const hubAttemptFields = {
  id: z.string(),
  status: z.enum(['pending', 'authenticated', 'error', 'cancelled', 'expired']),
  account: z.object({ id: z.string() }).nullable(),
  error: z.object({ code: z.string(), description: z.string() }).nullable(),
};

export const hubAttempt = z.object(hubAttemptFields).meta({
  examples: [
    {
      id: EXAMPLE.attemptId,
      status: 'error',
      account: null,
      error: { code: 'access_denied', description: 'The user denied access.' },
    },
  ],
});

/** GET /connection_attempts: the hub's view plus who, which session and which provider. */
export const connectionAttempt = z
  .object({
    ...hubAttemptFields,
    connect_session_id: z.number(),
    origin_owner_id: z.string(),
    integration_id: z.string().nullable(),
    provider: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({
    examples: [
      {
        id: EXAMPLE.attemptId,
        status: 'authenticated',
        account: { id: EXAMPLE.accountId },
        error: null,
        connect_session_id: 1842,
        origin_owner_id: 'customer-42',
        integration_id: EXAMPLE.integrationId,
        provider: 'bamboohr',
        created_at: EXAMPLE.created,
        updated_at: EXAMPLE.updated,
      },
    ],
  });
