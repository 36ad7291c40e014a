import { z } from 'zod';

export const sandboxAccountParams = z.object({
  account_id: z.string().min(1).max(255).describe('A sandbox_oauth linked account of your project'),
});

const refreshError = z
  .enum(['invalid_grant', 'temporarily_unavailable'])
  .describe(
    'invalid_grant: a refusal, the account turns expired (account.refresh_failed); temporarily_unavailable: a 503 outage, retried with backoff while the account stays active',
  );

export const failNextRefreshBody = z
  .strictObject({
    count: z.number().int().min(1).max(100).default(1).describe('How many refreshes in a row fail'),
    error: refreshError.default('invalid_grant'),
  })
  .meta({ id: 'SandboxFailNextRefresh', examples: [{ count: 1, error: 'invalid_grant' }] });

export const failNextRefreshResult = z
  .object({ account_id: z.string(), failing_refreshes: z.number().int(), error: refreshError })
  .meta({
    id: 'SandboxFailNextRefreshResult',
    examples: [{ account_id: 'acc_7Tq2mXc9Lw4pZr8k', failing_refreshes: 1, error: 'invalid_grant' }],
  });

export const expireTokenResult = z
  .object({ account_id: z.string(), token_expires_at: z.iso.datetime({ offset: true }) })
  .meta({
    id: 'SandboxExpireTokenResult',
    examples: [{ account_id: 'acc_7Tq2mXc9Lw4pZr8k', token_expires_at: '2026-11-30T13:00:00.000Z' }],
  });

const param = (description: string) => z.string().max(2048).optional().describe(description);

/**
 * An authorization request as the sandbox's consent page receives it. Every field is optional here:
 * the sandbox checks them itself, to answer the OAuth way (an error page, or error=… on the redirect).
 */
export const sandboxAuthorizeQuery = z.object({
  response_type: param('Always "code"'),
  client_id: param('The built-in client, "plugboard-sandbox"'),
  redirect_uri: param("Plugboard's OAuth callback, <PLUGBOARD_PUBLIC_URL>/connect/oauth2/callback"),
  state: param('Returned unchanged'),
  scope: param('Space-separated: employees:read, tickets:read (both when absent)'),
  code_challenge: param('PKCE S256 challenge (required)'),
  code_challenge_method: param('Always "S256"'),
});

export const sandboxConsentForm = sandboxAuthorizeQuery
  .extend({
    decision: z.enum(['allow', 'deny']).describe('The button the user pressed'),
  })
  .meta({
    examples: [
      {
        response_type: 'code',
        client_id: 'plugboard-sandbox',
        redirect_uri: 'http://localhost:4000/connect/oauth2/callback',
        state: 'hX1d9Q2mVr4',
        scope: 'employees:read tickets:read',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        decision: 'allow',
      },
    ],
  });
