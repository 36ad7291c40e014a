import { useState } from 'preact/hooks';
import { api, setCsrfToken } from '../api.ts';
import type { Operator } from '../app.tsx';
import { t } from '../i18n.ts';
import { ErrorNote, Field, useAction } from '../ui.tsx';

export function SignInView({ onSignedIn }: { onSignedIn: (operator: Operator) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  return (
    <main id="main" class="signin">
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const res = await action.run(() => api('POST', 'session', { email, password }));
          if (!res) return;
          setCsrfToken(res.csrf_token);
          onSignedIn(res.operator);
        }}
      >
        <h1>{t('signIn.title')}</h1>
        <ErrorNote error={action.error} />
        <Field id="email" label={t('signIn.email')}>
          <input
            id="email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="password" label={t('signIn.password')}>
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </Field>
        <button class="primary" type="submit" disabled={action.busy}>
          {t('signIn.submit')}
        </button>
        <p class="hint">
          {t('signIn.help')} <code>npx plugboard operators create --email you@example.com</code>
        </p>
      </form>
    </main>
  );
}
