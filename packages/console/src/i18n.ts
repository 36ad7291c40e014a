/**
 * The console's words, the same way the hub keeps them: one catalogue per language keyed by message
 * id, {name} placeholders, English as the fallback. Only English exists so far.
 */
export const en = {
  'app.name': 'Plugboard console',
  'app.skip': 'Skip to content',
  'nav.label': 'Sections',
  'nav.projects': 'Projects and API keys',
  'nav.integrations': 'Integrations',
  'nav.accounts': 'Linked accounts',
  'nav.sessions': 'Connect sessions',
  'nav.attempts': 'Connection attempts',
  'nav.webhooks': 'Webhooks',
  'nav.audit': 'Audit log',
  'nav.system': 'System',
  'top.project': 'Project',
  'top.theme': 'Theme',
  'top.signOut': 'Sign out',
  'top.password': 'Change password',
  'theme.system': 'System theme',
  'theme.light': 'Light',
  'theme.dark': 'Dark',
  'signIn.title': 'Sign in to Plugboard',
  'signIn.email': 'Email',
  'signIn.password': 'Password',
  'signIn.submit': 'Sign in',
  'signIn.help':
    'No account yet? An administrator creates one with: npx plugboard operators create --email you@example.com',
  'password.title': 'Change your password',
  'password.oneTime': 'You signed in with a one-time password. Choose your own to continue.',
  'password.current': 'Current password',
  'password.new': 'New password',
  'password.confirm': 'Repeat the new password',
  'password.mismatch': 'The two new passwords differ. Type the same password twice.',
  'password.submit': 'Change password',
  'password.done': 'Your password is changed. Other sessions of yours were signed out.',
  'common.copy': 'Copy',
  'common.copied': 'Copied',
  'common.loading': 'Loading…',
  'common.shownOnce': 'Shown only this once: copy it now and keep it somewhere safe.',
  'error.network': 'Plugboard could not be reached. Check that the server is running and try again.',
  'error.signedOut': 'You were signed out (or your session expired). Sign in again.',
  'error.generic': 'Something went wrong ({status}).',
  'error.notFound': 'Nothing is at this address. Pick a section from the menu.',
} as const;

export type MessageKey = keyof typeof en;

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return en[key].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}
