import type { AuthorizeParams } from './oauth-server.ts';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const SCOPE_TEXT: Record<string, string> = {
  'employees:read': 'Read the employee directory',
  'tickets:read': 'Read support tickets',
};

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f4f8;color:#1c1c28}
main{max-width:26rem;margin:10vh auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px #0002}
h1{font-size:1.3rem;margin:0 0 .5rem}p{margin:.5rem 0}ul{padding-left:1.2rem}
.buttons{display:flex;gap:.75rem;margin-top:1.5rem}button{flex:1;font:inherit;padding:.6rem;border-radius:8px;cursor:pointer}
button[value=allow]{background:#5b5bd6;color:#fff;border:0}button[value=deny]{background:#fff;border:1px solid #999}
.note{font-size:.85rem;color:#555}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

/** The sandbox's consent page: what Plugboard asks for, and Allow / Deny (a form posted back here). */
export function consentPage(params: AuthorizeParams, action: string): string {
  const hidden = (['client_id', 'redirect_uri', 'state', 'scope', 'code_challenge'] as const)
    .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(params[k])}">`)
    .join('');
  const scopes = params.scope
    .split(' ')
    .map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`)
    .join('');
  return page(
    'Sandbox: allow access?',
    `<h1>Allow Plugboard to access your sandbox account?</h1>
<p>Plugboard asks to:</p><ul>${scopes}</ul>
<form method="post" action="${escapeHtml(action)}">${hidden}
<input type="hidden" name="response_type" value="code"><input type="hidden" name="code_challenge_method" value="S256">
<div class="buttons"><button type="submit" name="decision" value="deny">Deny</button><button type="submit" name="decision" value="allow">Allow</button></div></form>
<p class="note">This is Plugboard's built-in sandbox provider: no real account is involved.</p>`,
  );
}

/** Shown instead of redirecting when the request names a wrong client or redirect URI. */
export function errorPage(message: string): string {
  return page(
    'Sandbox: invalid request',
    `<h1>This sign-in request is not valid</h1><p>${escapeHtml(message)}</p>`,
  );
}
