import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  type HubAccount,
  type HubClient,
  type HubConnectorConfig,
  HubError,
  type HubIntegration,
} from './api.ts';
import { FormStep } from './form-step.tsx';
import type { MessageKey } from './i18n/en.ts';
import type { Translate } from './i18n/index.ts';
import { runOAuthPopup } from './oauth-popup.ts';

/** 'closeable': a Close nobody else could act on (a plain tab without a return URL). */
export type Notify = (
  type: 'success' | 'close',
  detail?: { id: string; provider: string },
) => 'done' | 'closeable';

type Step =
  | { kind: 'loading' }
  | { kind: 'list'; integrations: HubIntegration[] }
  | { kind: 'form'; integration: HubIntegration; config: HubConnectorConfig['config'] }
  | { kind: 'connecting'; name: string }
  | { kind: 'success'; name: string }
  | {
      kind: 'error';
      name: string;
      message: string;
      /** What the provider answered, or, when it could not be reached, what went wrong on the way. */
      providerResponse?: string;
      unreachable?: boolean;
      retry?: () => void;
    }
  | { kind: 'fatal'; message: string }
  | { kind: 'closed' };

interface Props {
  client: HubClient;
  t: Translate;
  notify: Notify;
}

export function App({ client, t, notify }: Props) {
  const [step, setStep] = useState<Step>({ kind: 'loading' });
  const [integrations, setIntegrations] = useState<HubIntegration[]>([]);
  const [triggerToken, setTriggerToken] = useState<string | undefined>();
  const [account, setAccount] = useState<HubAccount | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);

  // Screen readers and keyboard users land on the new step's heading, unless the user is busy
  // elsewhere on the embedding page: only move focus from inside the element or from nowhere.
  useEffect(() => {
    const el = heading.current;
    if (!el) return;
    const host = (el.getRootNode() as ShadowRoot).host;
    const active = document.activeElement;
    if (!active || active === document.body || active === host) el.focus();
  }, [step.kind]);

  const fail = (err: unknown) => {
    const status = err instanceof HubError ? err.status : 0;
    const key: MessageKey = status === 401 ? 'error.session' : 'error.network';
    setStep({ kind: 'fatal', message: status === 401 || status === 0 ? t(key) : (err as Error).message });
  };

  const openForm = async (integration: HubIntegration) => {
    setStep({ kind: 'loading' });
    try {
      const { config } = await client.connector(integration.integration_id);
      setStep({ kind: 'form', integration, config });
    } catch (err) {
      fail(err);
    }
  };

  useEffect(() => {
    (async () => {
      const [settings, list] = await Promise.all([client.settings(), client.connectors()]);
      setIntegrations(list.integrations);
      setTriggerToken(list.external_trigger_token);
      if (settings.existing_account_id) {
        const existing = await client.account(settings.existing_account_id);
        setAccount(existing);
        const match =
          list.integrations.find((i) => i.integration_id === existing.integrationId) ??
          list.integrations.find((i) => i.provider === existing.provider);
        if (match) return openForm(match);
      }
      if (list.integrations.length === 1) return openForm(list.integrations[0]!);
      setStep(
        list.integrations.length
          ? { kind: 'list', integrations: list.integrations }
          : { kind: 'fatal', message: t('list.none') },
      );
    })().catch(fail);
  }, [client]);

  const close = () => {
    if (notify('close') === 'closeable') setStep({ kind: 'closed' });
  };

  const submit = async (integration: HubIntegration, credentials: Record<string, string>) => {
    setStep({ kind: 'connecting', name: integration.name });
    try {
      const result = account
        ? await client.updateAccount(account.secureId, integration.integration_id, credentials)
        : await client.createAccount(integration.integration_id, credentials);
      setStep({ kind: 'success', name: integration.name });
      notify('success', {
        id: result?.id ?? account?.secureId ?? '',
        provider: result?.provider ?? integration.provider,
      });
    } catch (err) {
      if (err instanceof HubError && err.status === 401) return fail(err);
      // 502/504: the provider could not be reached, timed out or failed; not a refusal of the
      // credentials, so its "answer" is really a network error or an outage page.
      const unreachable = err instanceof HubError && (err.status === 502 || err.status === 504);
      const detail = err instanceof HubError ? [err.message, err.providerResponse].filter(Boolean) : [];
      setStep({
        kind: 'error',
        name: integration.name,
        message: unreachable
          ? t('error.unreachable', { name: integration.name })
          : err instanceof HubError && err.status !== 0
            ? err.message
            : t('error.network'),
        providerResponse: unreachable
          ? detail.join('\n')
          : err instanceof HubError
            ? err.providerResponse
            : undefined,
        unreachable,
        retry: () => openForm(integration),
      });
    }
  };

  const oauth = (integration: HubIntegration, fields: Record<string, string>) => {
    const running = runOAuthPopup(client, integration.integration_id, fields, integration.name);
    setStep({ kind: 'connecting', name: integration.name });
    running.then((outcome) => {
      if (outcome.ok) {
        setStep({ kind: 'success', name: integration.name });
        notify('success', { id: outcome.accountId, provider: integration.provider });
        return;
      }
      const messages = {
        blocked: 'error.popupBlocked',
        closed: 'error.popupClosed',
        timeout: 'error.timeout',
      } as const;
      setStep({
        kind: 'error',
        name: integration.name,
        message:
          outcome.reason === 'error'
            ? (outcome.description ?? t('error.network'))
            : t(messages[outcome.reason]),
        retry: () => openForm(integration),
      });
    });
  };

  return (
    <div class="hub">
      {step.kind === 'loading' && (
        <div aria-live="polite">
          <h1 ref={heading} tabIndex={-1} class="sr-only">
            {t('loading')}
          </h1>
          <div class="spinner" aria-hidden="true" />
        </div>
      )}
      {step.kind === 'list' && (
        <ProviderList integrations={step.integrations} t={t} heading={heading} onPick={openForm} />
      )}
      {step.kind === 'form' && (
        <FormStep
          integration={step.integration}
          config={step.config}
          account={account}
          triggerToken={triggerToken}
          t={t}
          heading={heading}
          onBack={
            integrations.length > 1 && !account ? () => setStep({ kind: 'list', integrations }) : undefined
          }
          onSubmit={(credentials) => submit(step.integration, credentials)}
          onOAuth={(fields) => oauth(step.integration, fields)}
        />
      )}
      {step.kind === 'connecting' && (
        <div aria-live="polite" aria-busy="true">
          <h1 ref={heading} tabIndex={-1}>
            {t('connecting.title', { name: step.name })}
          </h1>
          <div class="spinner" aria-hidden="true" />
        </div>
      )}
      {step.kind === 'success' && (
        <div>
          <h1 ref={heading} tabIndex={-1}>
            {t('success.title')}
          </h1>
          <p role="status">{t('success.body', { name: step.name })}</p>
          <div class="actions">
            <button type="button" class="primary" onClick={close}>
              {t('success.close')}
            </button>
          </div>
        </div>
      )}
      {step.kind === 'error' && (
        <div>
          <h1 ref={heading} tabIndex={-1}>
            {t('error.title')}
          </h1>
          <div class="error" role="alert">
            <p>{step.message}</p>
            {step.providerResponse ? (
              <>
                <p>{step.unreachable ? t('error.detail') : t('error.provider', { name: step.name })}</p>
                <pre class="provider">{step.providerResponse}</pre>
              </>
            ) : null}
          </div>
          <div class="actions">
            <button type="button" class="secondary" onClick={close}>
              {t('success.close')}
            </button>
            <button type="button" class="primary" onClick={step.retry}>
              {t('error.retry')}
            </button>
          </div>
        </div>
      )}
      {step.kind === 'closed' && (
        <div role="status">
          <h1 ref={heading} tabIndex={-1}>
            {t('closed.body')}
          </h1>
        </div>
      )}
      {step.kind === 'fatal' && (
        <div>
          <h1 ref={heading} tabIndex={-1}>
            {t('error.title')}
          </h1>
          <p class="error" role="alert">
            {step.message}
          </p>
          <div class="actions">
            <button type="button" class="secondary" onClick={close}>
              {t('success.close')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

function ProviderList(props: {
  integrations: HubIntegration[];
  t: Translate;
  heading: { current: HTMLHeadingElement | null };
  onPick: (i: HubIntegration) => void;
}) {
  const { integrations, t } = props;
  const [query, setQuery] = useState('');
  const [category, setCategory] = useState('');
  const categories = useMemo(() => [...new Set(integrations.map((i) => i.type))].sort(), [integrations]);
  const shown = integrations.filter(
    (i) => (!category || i.type === category) && i.name.toLowerCase().includes(query.trim().toLowerCase()),
  );
  const categoryLabel = (c: string) => {
    const label = t(`categories.${c}` as MessageKey);
    return label.startsWith('categories.') ? c : label;
  };
  return (
    <div>
      <h1 ref={props.heading} tabIndex={-1}>
        {t('list.title')}
      </h1>
      <div class="tools">
        <label class="sr-only" for="pb-search">
          {t('list.search')}
        </label>
        <input
          id="pb-search"
          type="search"
          placeholder={t('list.search')}
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        {categories.length > 1 && (
          <>
            <label class="sr-only" for="pb-category">
              {t('list.category')}
            </label>
            <select
              id="pb-category"
              value={category}
              onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}
            >
              <option value="">{t('list.all')}</option>
              {categories.map((c) => (
                <option value={c}>{categoryLabel(c)}</option>
              ))}
            </select>
          </>
        )}
      </div>
      {shown.length === 0 ? (
        <p role="status">{t('list.empty')}</p>
      ) : (
        <ul class="providers">
          {shown.map((i) => (
            <li key={i.integration_id}>
              <button type="button" onClick={() => props.onPick(i)}>
                <img src={i.logo_url} alt="" />
                <span>{i.name}</span>
                <span class="category">{categoryLabel(i.type)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
