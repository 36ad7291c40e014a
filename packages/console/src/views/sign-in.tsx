import { api, setCsrfToken } from '../api.ts';
import type { Operator } from '../app.tsx';
import { ActionForm, TextField, useField } from '../form.tsx';
import { t } from '../i18n.ts';
import { ErrorNote, useAction } from '../ui.tsx';

export function SignInView({ onSignedIn }: { onSignedIn: (operator: Operator) => void }) {
  const email = useField('email', t('signIn.email'));
  const password = useField('password', t('signIn.password'));
  const action = useAction();
  return (
    <main id="main" class="signin">
      <ActionForm
        action={action}
        submit={() => api('POST', 'session', { email: email.value, password: password.value })}
        done={(res) => {
          setCsrfToken(res.csrf_token);
          onSignedIn(res.operator);
        }}
      >
        <h1>{t('signIn.title')}</h1>
        <ErrorNote error={action.error} />
        <TextField type="email" autoComplete="username" required {...email} />
        <TextField type="password" autoComplete="current-password" required {...password} />
        <button class="primary" type="submit" disabled={action.busy}>
          {t('signIn.submit')}
        </button>
        <p class="hint">
          {t('signIn.help')} <code>npx plugboard operators create --email you@example.com</code>
        </p>
      </ActionForm>
    </main>
  );
}
