import type { HubClient } from './api.ts';

export type PopupOutcome =
  | { ok: true; accountId: string }
  | { ok: false; reason: 'blocked' | 'closed' | 'timeout' | 'error'; description?: string };

const POLL_MS = 1000;
const TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Runs the OAuth popup: the window is opened synchronously (inside the click, or popup blockers stop
 * it), then pointed at Plugboard's start URL once the attempt exists, and the attempt is polled until
 * it ends, the user closes the window, or time runs out (then the attempt is cancelled).
 */
export function runOAuthPopup(
  client: HubClient,
  integrationId: string,
  fields: Record<string, string>,
  name: string,
): Promise<PopupOutcome> {
  const popup = window.open('', 'plugboard-oauth', 'popup,width=520,height=720');
  if (!popup) return Promise.resolve({ ok: false, reason: 'blocked' });
  popup.document.title = name;
  return (async () => {
    let attemptId: string | undefined;
    try {
      attemptId = (await client.createAttempt()).id;
      popup.location.href = client.oauthUrl(integrationId, attemptId, fields);
      const deadline = Date.now() + TIMEOUT_MS;
      for (;;) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        const attempt = await client.attempt(attemptId);
        if (attempt.status === 'authenticated' && attempt.account) {
          if (!popup.closed) popup.close();
          return { ok: true, accountId: attempt.account.id };
        }
        if (attempt.status !== 'pending') {
          if (!popup.closed) popup.close();
          return { ok: false, reason: 'error', description: attempt.error?.description ?? attempt.status };
        }
        const closed = popup.closed;
        if (closed || Date.now() > deadline) {
          // One last look: the window may have closed itself right after finishing.
          const last = await client.attempt(attemptId);
          if (last.status === 'authenticated' && last.account)
            return { ok: true, accountId: last.account.id };
          await client.cancelAttempt(attemptId).catch(() => {});
          if (!popup.closed) popup.close();
          return { ok: false, reason: closed ? 'closed' : 'timeout' };
        }
      }
    } catch (err) {
      if (!popup.closed) popup.close();
      if (attemptId) await client.cancelAttempt(attemptId).catch(() => {});
      return { ok: false, reason: 'error', description: (err as Error).message };
    }
  })();
}
