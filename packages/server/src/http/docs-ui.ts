import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui';

/** Plugboard's mark: a patch panel with one cable plugged in. Small, self-contained, no fonts. */
const MARK = `<rect width="40" height="40" rx="9" fill="#4f46e5"/>
<circle cx="13" cy="14" r="4" fill="#c7d2fe"/><circle cx="27" cy="14" r="4" fill="#c7d2fe"/>
<circle cx="13" cy="27" r="4" fill="#c7d2fe"/><circle cx="27" cy="27" r="4" fill="#ffffff"/>
<path d="M13 14 C13 22 27 19 27 27" stroke="#ffffff" stroke-width="3" fill="none" stroke-linecap="round"/>
<circle cx="13" cy="14" r="2.2" fill="#ffffff"/>`;

export const PLUGBOARD_ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40">${MARK}</svg>`;

/** The mark and the name, white on swagger-ui's dark top bar. */
export const PLUGBOARD_LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 196 40" width="196" height="40" role="img" aria-label="Plugboard">
<title>Plugboard</title>${MARK}
<text x="50" y="28" font-family="system-ui,-apple-system,'Segoe UI',Roboto,sans-serif" font-size="23" font-weight="700" fill="#ffffff">Plugboard</text>
</svg>`;

/** The reference's introduction (Markdown), shown above the operations. */
export const API_DESCRIPTION = `Plugboard is a self-hostable **connect sessions** service: your backend creates a short-lived
session for one end customer, the customer connects their third-party account through the hub, and
Plugboard stores the credentials encrypted, keeps OAuth tokens fresh and tells your backend through
signed webhooks. The platform API and the hub protocol are wire-compatible with StackOne's.

**Authentication.** Platform routes take the project API key as the HTTP Basic username with an
empty password (\`curl -u "$KEY:"\`), or as \`Authorization: Bearer <key>\`. Hub routes are called from
the browser with the connect session token in \`x-hub-session-token\`.

**Errors** always have the shape \`{ "statusCode", "message", "timestamp" }\`, plus \`errors\` (one
line per validation problem) and \`provider_response\` (what a provider answered) where they apply.`;

/** swagger-ui at /docs with Plugboard's name and logo; it loads nothing from outside this server. */
export const docsUiOptions: FastifySwaggerUiOptions = {
  routePrefix: '/docs',
  uiConfig: {
    docExpansion: 'list',
    // The default sends the document to an online validator and shows its badge.
    validatorUrl: null,
    displayRequestDuration: true,
  },
  logo: { type: 'image/svg+xml', content: Buffer.from(PLUGBOARD_LOGO_SVG), href: './', target: '_self' },
  theme: {
    title: 'Plugboard API reference',
    favicon: [
      {
        filename: 'plugboard.svg',
        rel: 'icon',
        sizes: 'any',
        type: 'image/svg+xml',
        content: Buffer.from(PLUGBOARD_ICON_SVG),
      },
    ],
  },
};
