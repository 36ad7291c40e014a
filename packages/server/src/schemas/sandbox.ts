import { z } from 'zod';

export const sandboxAccountParams = z.object({
  account_id: z.string().min(1).max(255).describe('A sandbox_oauth linked account of your project'),
});

export const failNextRefreshBody = z
  .strictObject({
    count: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe('How many refreshes in a row fail; 3 make the account expired'),
  })
  .meta({ id: 'SandboxFailNextRefresh', example: { count: 3 } });

export const failNextRefreshResult = z
  .object({ account_id: z.string(), failing_refreshes: z.number().int() })
  .meta({ id: 'SandboxFailNextRefreshResult', example: { account_id: 'acc_4f1c…', failing_refreshes: 3 } });

export const expireTokenResult = z
  .object({ account_id: z.string(), token_expires_at: z.iso.datetime({ offset: true }) })
  .meta({
    id: 'SandboxExpireTokenResult',
    example: { account_id: 'acc_4f1c…', token_expires_at: '2026-11-30T13:00:00.000Z' },
  });
