import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { t } from './i18n.ts';
import { href, navigate } from './router.ts';

/** Loads data for a view; reload() after a change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const counter = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on.
  const run = useCallback(() => {
    const mine = ++counter.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (mine === counter.current) setState({ data, loading: false });
      },
      (error) => {
        if (mine === counter.current) setState({ error, loading: false });
      },
    );
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/** Runs an action, keeping its error to show next to the button that started it. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await fn();
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(undefined) };
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message =
    error instanceof ApiError
      ? error.message
      : error instanceof Error
        ? error.message
        : t('error.generic', { status: String(error) });
  const details = error instanceof ApiError ? error.errors : [];
  return (
    <div class="error" role="alert">
      {message}
      {details.length > 1 && (
        <ul>
          {details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading() {
  return <p aria-live="polite">{t('common.loading')}</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/** A heading that takes focus when the view opens, so screen readers announce the new page. */
export function Title({ children, lead }: { children: ComponentChildren; lead?: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <>
      <h1 tabIndex={-1} ref={ref}>
        {children}
      </h1>
      {lead && <p class="lead">{lead}</p>}
    </>
  );
}

export function Link({
  to,
  children,
  ...rest
}: {
  to: string;
  children: ComponentChildren;
  [k: string]: unknown;
}) {
  return (
    <a
      href={href(to)}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
      {...rest}
    >
      {children}
    </a>
  );
}

const GOOD = new Set(['active', 'authenticated', 'enabled', 'succeeded']);
const BAD = new Set(['error', 'failed', 'revoked', 'expired', 'disabled', 'invalid']);
export function Status({ value }: { value: string }) {
  const kind = GOOD.has(value) ? 'ok' : BAD.has(value) ? 'bad' : 'warn';
  return <span class={`badge ${kind}`}>{value}</span>;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');
