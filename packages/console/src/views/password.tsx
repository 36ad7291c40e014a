import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Field } from '../form.tsx';
import { t } from '../i18n.ts';
import { ErrorNote, Title, useAction } from '../ui.tsx';

export function PasswordView({ oneTime, onChanged }: { oneTime: boolean; onChanged: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const action = useAction();
  const input = (id: string, value: string, set: (v: string) => void, auto: string) => (
    <input
      id={id}
      type="password"
      required
      autoComplete={auto}
      value={value}
      onInput={(e) => set((e.target as HTMLInputElement).value)}
    />
  );
  return (
    <>
      <Title lead={oneTime ? t('password.oneTime') : undefined}>{t('password.title')}</Title>
      <form
        class="card"
        style={{ maxWidth: '420px' }}
        onSubmit={async (e) => {
          e.preventDefault();
          setMismatch(next !== confirm);
          if (next !== confirm) return;
          const ok = await action.run(async () => {
            await api('POST', 'session/password', { current_password: current, new_password: next });
            return true;
          });
          if (ok) onChanged();
        }}
      >
        {mismatch && (
          <div class="error" role="alert">
            {t('password.mismatch')}
          </div>
        )}
        <ErrorNote error={action.error} />
        <Field id="current" label={t('password.current')}>
          {input('current', current, setCurrent, 'current-password')}
        </Field>
        <Field id="new" label={t('password.new')} hint="At least 12 characters.">
          {input('new', next, setNext, 'new-password')}
        </Field>
        <Field id="confirm" label={t('password.confirm')}>
          {input('confirm', confirm, setConfirm, 'new-password')}
        </Field>
        <button class="primary" type="submit" disabled={action.busy}>
          {t('password.submit')}
        </button>
      </form>
    </>
  );
}
