import fs from 'node:fs';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { DomainError } from '../errors.ts';
import { HUB_BUNDLE_PATH } from '../install-paths.ts';
import { allowedReturnUrl } from '../services/return-url.ts';

/** The hub element's production bundle, built by `npm run build` (packages/hub). */
export const HUB_BUNDLE = HUB_BUNDLE_PATH;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The finish page's script (CSP allows no inline script). In a popup it hands the OAuth result to the
 * opener, addressed to each origin the server named (a non-matching origin simply receives nothing),
 * never "*", then closes the window. Without an opener (redirect mode) the page's text stays.
 */
const CALLBACK_SCRIPT = `(() => {
  const query = new URLSearchParams(location.search);
  const message = { type: 'plugboard:oauth-callback' };
  for (const key of ['status', 'account_id', 'provider', 'connection_attempt_id', 'error', 'error_description']) {
    const value = query.get(key);
    if (value !== null) message[key] = value;
  }
  const opener = window.opener;
  if (!opener) return;
  let origins = [];
  try { origins = JSON.parse(document.body.dataset.origins || '[]'); } catch {}
  for (const origin of origins) {
    try { opener.postMessage(message, origin); } catch {}
  }
  window.close();
})();
`;

export interface EmbeddedRoutesOptions {
  config: Config;
  /** Where the built element lives; tests point it elsewhere. */
  bundlePath?: string;
  /**
   * The allowed_origins of the usable session with this token (which may frame its hosted page and
   * receive its Close): undefined without such a session.
   */
  sessionOrigins?: (token: string) => Promise<string[] | null | undefined>;
}

/**
 * Pages served to end users: the hosted connect page at `auth_link_url`, the finish page OAuth popups
 * return to, and their scripts. Strict CSP: only Plugboard itself, no inline script, and the session
 * token never leaves through a Referer header.
 */
export const embeddedRoutes: FastifyPluginAsyncZod<EmbeddedRoutesOptions> = async (
  app,
  { config, bundlePath = HUB_BUNDLE, sessionOrigins },
) => {
  // Read once: the bundle only changes with a build, which comes with a restart.
  const bundle = fs.existsSync(bundlePath) ? fs.readFileSync(bundlePath) : undefined;
  if (!bundle)
    app.log.warn(`hub bundle missing at ${bundlePath}: run "npm run build" to serve the connect page`);

  const publicUrl = new URL(config.publicUrl);
  // A public URL with a path (behind a proxy at /plugboard) prefixes every asset path.
  const prefix = publicUrl.pathname.replace(/\/+$/, '');
  // The element calls base-url (= the public URL) and shows logos from it: name that origin as well as
  // 'self', so a page reached through another host name still works. Both are Plugboard.
  const plugboard = ["'self'", publicUrl.origin].join(' ');
  const origins = config.hubAllowedOrigins;
  // Who may frame the pages: Plugboard itself, the origins named in PLUGBOARD_HUB_ALLOWED_ORIGINS and,
  // for a session's hosted page, that session's allowed_origins. Never "*" (clickjacking): with the
  // default "*" for hub calls, framing still needs an explicit origin.
  const namedOrigins = origins.filter((o) => o !== '*');
  const cspWith = (frameAncestors: string[]) =>
    [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      `img-src ${plugboard} data:`,
      `connect-src ${plugboard}`,
      "base-uri 'none'",
      "form-action 'none'",
      `frame-ancestors ${["'self'", ...new Set(frameAncestors)].join(' ')}`,
    ].join('; ');
  const csp = cspWith(namedOrigins);
  // Who may receive the finish page's result: Plugboard's own hosted page and the configured embedders.
  const messageOrigins = [publicUrl.origin, ...origins.filter((o) => o !== '*' && o !== publicUrl.origin)];

  const page = (title: string, body: string, bodyAttrs = '') => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>body{margin:0;padding:24px 12px;background:#f3f4f6;font-family:system-ui,sans-serif}@media (prefers-color-scheme:dark){body{background:#030712;color:#f3f4f6}}</style>
</head>
<body${bodyAttrs}>
${body}
</body>
</html>`;

  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };

  app.get(
    '/embedded/integrations',
    {
      schema: {
        tags: ['Hub'],
        summary: 'The hosted connect page (auth_link_url)',
        querystring: z.object({
          token: z.string().max(512).optional(),
          lang: z.string().max(20).optional(),
          theme: z.enum(['light', 'dark']).optional(),
          return_url: z
            .string()
            .max(2048)
            .optional()
            .meta({
              description:
                "Where Close leads in a plain tab: Plugboard's own origin or an origin of the session's allowed_origins (or PLUGBOARD_HUB_ALLOWED_ORIGINS); anything else is ignored",
              examples: ['https://app.acme-saas.example/settings/integrations'],
            }),
        }),
        responseDocs: {
          200: {
            description:
              'The connect page: the <plugboard-hub> element for this session, or a note that the link is incomplete',
            content: {
              type: 'text/html',
              example:
                '<!doctype html>\n<html lang="en">…<plugboard-hub token="pbcs_…" base-url="https://plugboard.example.com"></plugboard-hub>\n<script type="module" src="/embedded/assets/plugboard-hub.js"></script>…</html>',
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { token, lang, theme, return_url } = request.query;
      // undefined: no usable session with this token; null: a session without allowed_origins.
      const sessionAllowed = token && sessionOrigins ? await sessionOrigins(token) : undefined;
      const back =
        return_url && sessionAllowed !== undefined
          ? allowedReturnUrl(return_url, [publicUrl.origin, ...(sessionAllowed ?? []), ...namedOrigins])
          : undefined;
      const attrs = [
        `token="${escapeHtml(token ?? '')}"`,
        `base-url="${escapeHtml(config.publicUrl)}"`,
        lang ? `lang="${escapeHtml(lang)}"` : '',
        theme ? `theme="${theme}"` : '',
        back ? `return-url="${escapeHtml(back)}"` : '',
      ].filter(Boolean);
      const script = escapeHtml(`${prefix}/embedded/assets/plugboard-hub.js`);
      const body = token
        ? `<plugboard-hub ${attrs.join(' ')}></plugboard-hub>\n<script type="module" src="${script}"></script>`
        : '<p>This connect link is incomplete: ask the application for a new one.</p>';
      const framers = sessionAllowed ?? [];
      return reply
        .headers({ ...headers, 'content-security-policy': cspWith([...namedOrigins, ...framers]) })
        .send(page('Connect an account', body));
    },
  );

  app.get(
    '/embedded/accounts/callback',
    {
      schema: {
        tags: ['Hub'],
        summary: 'Where OAuth popups finish: hands the result to the opener and closes',
        querystring: z.object({
          status: z.string().max(40).optional(),
          error_description: z.string().max(2048).optional(),
        }),
        responseDocs: {
          200: {
            description:
              'A page that posts the outcome to the window that opened it and closes; in a plain tab it says what happened',
            content: {
              type: 'text/html',
              example:
                '<!doctype html>\n<html lang="en">…<p role="status">Connected. You can close this window and return to the application.</p>…</html>',
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { status, error_description } = request.query;
      const text =
        status === 'success'
          ? 'Connected. You can close this window and return to the application.'
          : status === 'error' || status === 'cancelled'
            ? `The connection did not succeed${error_description ? `: ${error_description}` : '.'} Close this window and try again.`
            : 'You can close this window and return to the application.';
      const script = escapeHtml(`${prefix}/embedded/assets/callback.js`);
      return reply
        .headers(headers)
        .send(
          page(
            'Connecting…',
            `<p role="status">${escapeHtml(text)}</p>\n<script src="${script}"></script>`,
            ` data-origins="${escapeHtml(JSON.stringify(messageOrigins))}"`,
          ),
        );
    },
  );

  const sendScript = (reply: FastifyReply, body: string | Buffer) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .header('x-content-type-options', 'nosniff')
      // Embedders load the element cross-origin as a module script, which needs CORS.
      .header('access-control-allow-origin', '*')
      .send(body);

  app.get(
    '/embedded/assets/callback.js',
    { schema: { hide: true }, config: { rateLimit: false } },
    async (_request, reply) => sendScript(reply, CALLBACK_SCRIPT),
  );

  app.get(
    '/embedded/assets/plugboard-hub.js',
    { schema: { hide: true }, config: { rateLimit: false } },
    async (_request, reply) => {
      if (!bundle)
        throw new DomainError(
          'unavailable',
          'The hub bundle is not built: run "npm run build" at the repository root, then restart the server.',
        );
      return sendScript(reply, bundle);
    },
  );
};
