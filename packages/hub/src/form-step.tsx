import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { HubAccount, HubConnectorConfig, HubField, HubIntegration } from './api.ts';
import { credentialsToSend, displayMasked, isMasked, isSecret, validateAll } from './form.ts';
import type { Translate } from './i18n/index.ts';

const TRIGGER_FIELD = 'external-trigger-token';

interface Props {
  integration: HubIntegration;
  config: HubConnectorConfig['config'];
  account?: HubAccount;
  triggerToken?: string;
  t: Translate;
  heading: { current: HTMLHeadingElement | null };
  onBack?: () => void;
  onSubmit: (credentials: Record<string, string>) => void;
  /** OAuth: called synchronously inside the click with the non-secret form values. */
  onOAuth: (fields: Record<string, string>) => void;
}

export function FormStep({
  integration,
  config,
  account,
  triggerToken,
  t,
  heading,
  onBack,
  onSubmit,
  onOAuth,
}: Props) {
  const fields = config.configFields;
  const [values, setValues] = useState<Record<string, string>>(() => {
    const initial: Record<string, string> = {};
    for (const field of fields) {
      if (field.key === TRIGGER_FIELD && triggerToken) initial[field.key] = triggerToken;
      const stored = account?.secrets[field.key] ?? account?.setupInformation[field.key];
      if (stored !== undefined && stored !== null && !isMasked(stored)) initial[field.key] = String(stored);
    }
    return initial;
  });
  // Secrets already stored (edit mode) stay untouched unless the user presses "Change".
  const [keep, setKeep] = useState<Set<string>>(
    () => new Set(fields.filter((f) => isMasked(account?.secrets[f.key])).map((f) => f.key)),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [revealed, setRevealed] = useState<Set<string>>(new Set());
  const editing = account !== undefined;

  const submit = (event: Event) => {
    event.preventDefault();
    const problems = validateAll(fields, values, t, keep);
    setErrors(problems);
    const first = Object.keys(problems)[0];
    if (first) {
      (event.target as HTMLFormElement).querySelector<HTMLElement>(`#pb-field-${CSS.escape(first)}`)?.focus();
      return;
    }
    const credentials = credentialsToSend(fields, values, keep);
    if (redirectFlow) onOAuth(credentials);
    else onSubmit(credentials);
  };
  // Authorization-code connectors sign in at the provider; client-credentials ones use the form.
  const redirectFlow = config.type === 'oauth2' && config.grantType !== 'client_credentials';

  const setValue = (key: string, value: string) => setValues((v) => ({ ...v, [key]: value }));

  return (
    <form onSubmit={submit} noValidate>
      <h1 ref={heading} tabIndex={-1}>
        <img src={config.assets.icon} alt="" />
        {t(editing ? 'form.titleEdit' : 'form.title', { name: config.name })}
      </h1>
      {config.configNotices?.map((notice) => (
        <p class="notice">{notice}</p>
      ))}
      {config.support?.description ? (
        <p class="notice">
          {config.support.description}{' '}
          {config.support.link ? (
            <a
              href={config.support.link}
              target="_blank"
              rel="noopener noreferrer"
              aria-label={t('form.help', { name: config.name })}
            >
              ↗
            </a>
          ) : null}
        </p>
      ) : null}
      {redirectFlow ? <p class="notice">{t('form.oauthSoon', { name: integration.name })}</p> : null}
      {fields.map((field) => (
        <FieldInput
          field={field}
          value={values[field.key] ?? ''}
          masked={keep.has(field.key) ? displayMasked(account!.secrets[field.key]!) : undefined}
          revealed={revealed.has(field.key)}
          error={errors[field.key]}
          t={t}
          onInput={(v) => setValue(field.key, v)}
          onChange={() => {
            setKeep((k) => new Set([...k].filter((x) => x !== field.key)));
            setValue(field.key, '');
          }}
          onToggle={() =>
            setRevealed((r) =>
              r.has(field.key) ? new Set([...r].filter((x) => x !== field.key)) : new Set([...r, field.key]),
            )
          }
        />
      ))}
      <div class="actions">
        {onBack ? (
          <button type="button" class="secondary" onClick={onBack}>
            {t('form.back')}
          </button>
        ) : null}
        <button type="submit" class="primary">
          {redirectFlow
            ? t('form.oauth', { name: integration.name })
            : t(editing ? 'form.submitEdit' : 'form.submit')}
        </button>
      </div>
    </form>
  );
}

function FieldInput(props: {
  field: HubField;
  value: string;
  masked?: string;
  revealed: boolean;
  error?: string;
  t: Translate;
  onInput: (value: string) => void;
  onChange: () => void;
  onToggle: () => void;
}) {
  const { field, value, masked, revealed, error, t } = props;
  const id = `pb-field-${field.key}`;
  const described =
    [field.description ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') ||
    undefined;
  const secret = isSecret(field) && field.key !== TRIGGER_FIELD;
  const readOnly = field.readOnly || field.key === TRIGGER_FIELD;
  const common = {
    id,
    name: field.key,
    required: field.required,
    'aria-required': field.required,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': described,
    placeholder: field.placeholder || undefined,
  };
  let control: JSX.Element;
  if (masked !== undefined) {
    control = (
      <div class="row">
        <input {...common} type="text" value={masked} readOnly />
        <button type="button" class="small" onClick={props.onChange}>
          {t('form.change')}
          <span class="sr-only"> {field.label}</span>
        </button>
      </div>
    );
  } else if (field.type === 'select') {
    control = (
      <select
        {...common}
        value={value}
        onChange={(e) => props.onInput((e.target as HTMLSelectElement).value)}
      >
        <option value="">{field.placeholder}</option>
        {field.options?.map((o) => (
          <option value={o.value}>{o.label}</option>
        ))}
      </select>
    );
  } else if (field.type === 'text_area') {
    control = (
      <textarea
        {...common}
        value={value}
        readOnly={readOnly}
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
      />
    );
  } else {
    control = (
      <div class="row">
        <input
          {...common}
          type={secret && !revealed ? 'password' : 'text'}
          inputMode={field.type === 'number' ? 'decimal' : undefined}
          autocomplete={secret ? 'off' : undefined}
          spellcheck={false}
          value={value}
          readOnly={readOnly}
          onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        />
        {secret ? (
          <button type="button" class="small" aria-pressed={revealed} onClick={props.onToggle}>
            {revealed ? t('form.hide') : t('form.show')}
            <span class="sr-only"> {field.label}</span>
          </button>
        ) : null}
        {field.key === TRIGGER_FIELD ? <CopyButton value={value} t={t} /> : null}
      </div>
    );
  }
  return (
    <div class="field">
      <label for={id}>
        {field.label}
        {field.required ? (
          <span class="required" aria-hidden="true">
            {' '}
            *
          </span>
        ) : null}
      </label>
      {field.description ? (
        <p class="hint" id={`${id}-hint`}>
          {field.description}
        </p>
      ) : null}
      {control}
      {error ? (
        <p class="problem" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function CopyButton({ value, t }: { value: string; t: Translate }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="small"
      onClick={async (event) => {
        const button = event.currentTarget as HTMLElement;
        try {
          await navigator.clipboard.writeText(value);
          setCopied(true);
        } catch {
          // No clipboard access (plain http, permissions): select the text so the user can copy it.
          const input = button.parentElement?.querySelector('input');
          input?.focus();
          input?.select();
        }
      }}
    >
      <span aria-live="polite">{copied ? t('form.copied') : t('form.copy')}</span>
    </button>
  );
}
