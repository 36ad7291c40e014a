import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useState } from 'preact/hooks';
import { t } from './i18n.ts';
import type { useAction } from './ui.tsx';

/** The parts of the console's forms (and of the filter bars, which are forms too). */

/** A field's id, label, value and setter: spread it into a TextField, SearchField or SelectField. */
export function useField(id: string, label: string, initial = '') {
  const [value, onValue] = useState(initial);
  return { id, label, value, onValue };
}

/**
 * A card form that runs `submit` through `action` (whose error the form shows where it likes) and
 * hands a successful answer to `done`.
 */
export function ActionForm<T>({
  action,
  submit,
  done,
  children,
}: {
  action: ReturnType<typeof useAction>;
  submit: () => Promise<T>;
  done: (answer: T) => void;
  children: ComponentChildren;
}) {
  return (
    <form
      class="card"
      onSubmit={async (e) => {
        e.preventDefault();
        const answer = await action.run(submit);
        if (answer) done(answer);
      }}
    >
      {children}
    </form>
  );
}

/** A secret shown once (a new API key, a signing secret), with a copy button. */
export function OnceSecret({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="notice" role="status">
      <strong>{label}</strong>
      <p class="hint">{t('common.shownOnce')}</p>
      <div class="secret">
        <code data-testid="secret">{value}</code>
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard?.writeText(value).catch(() => {});
            setCopied(true);
          }}
        >
          {copied ? t('common.copied') : t('common.copy')}
        </button>
      </div>
    </div>
  );
}

export function Field({
  label,
  hint,
  children,
  id,
}: {
  label: string;
  hint?: string;
  children: ComponentChildren;
  id: string;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** A labelled input of a form; the rest of the props go to the <input> (type, required, autoComplete…). */
export function TextField({
  id,
  label,
  hint,
  value,
  onValue,
  ...input
}: {
  id: string;
  label: string;
  hint?: string;
  value: string;
  onValue: (value: string) => void;
} & Omit<InputHTMLAttributes, 'id' | 'label' | 'value'>) {
  return (
    <Field id={id} label={label} hint={hint}>
      <input
        id={id}
        value={value}
        onInput={(e) => onValue((e.target as HTMLInputElement).value)}
        {...input}
      />
    </Field>
  );
}

/** A form's submit button, lined up with the fields of its row. */
export function SubmitField({ busy, children }: { busy: boolean; children: ComponentChildren }) {
  return (
    <div class="field">
      <button class="primary" type="submit" disabled={busy}>
        {children}
      </button>
    </div>
  );
}
