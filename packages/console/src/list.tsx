import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Page } from './api.ts';
import { Field } from './form.tsx';
import { Empty, ErrorNote, Loading, useLoad } from './ui.tsx';

/**
 * The building blocks of the console's lists: a filter bar's fields, a table described by its
 * columns, and the error / loading / empty / table sequence every list view shows.
 */

export interface Column<T> {
  /** The header; with `hidden` it is read by screen readers only (an actions column). */
  header: string;
  hidden?: boolean;
  cell: (row: T) => ComponentChildren;
  class?: string;
}

interface TableProps<T> {
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  /** Attributes of a row's <tr> (data-* hooks for tests, aria-current). */
  rowProps?: (row: T) => Record<string, unknown>;
  caption?: string;
  style?: JSX.CSSProperties;
}

export function Table<T>({ rows, columns, rowKey, rowProps, caption, style }: TableProps<T> & { rows: T[] }) {
  return (
    <div class="table-wrap" style={style}>
      <table>
        {caption && <caption class="sr-only">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.header}>{c.hidden ? <span class="sr-only">{c.header}</span> : c.header}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} {...rowProps?.(row)}>
              {columns.map((c) => (
                <td key={c.header} class={c.class}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** What a list knows of its load (useLoad, usePaged); a view leaves out what it shows elsewhere. */
interface LoadState {
  data?: unknown;
  error?: unknown;
  loading?: boolean;
}

/**
 * A loaded list: its error, "Loading…" until the first answer, then the empty state (when there is
 * one) or the rows — as a table, or through `render` for lists that are not tables.
 */
export function List<T>({
  state,
  rows,
  empty,
  render,
  ...table
}: Partial<TableProps<T>> & {
  state: LoadState;
  rows: T[] | undefined;
  empty?: ComponentChildren;
  render?: (rows: T[]) => ComponentChildren;
}) {
  const shown = rows ?? [];
  return (
    <>
      <ErrorNote error={state.error} />
      {state.loading && !state.data && <Loading />}
      {state.data && shown.length === 0 && empty && <Empty>{empty}</Empty>}
      {shown.length > 0 &&
        (render
          ? render(shown)
          : table.columns &&
            table.rowKey && <Table {...table} columns={table.columns} rowKey={table.rowKey} rows={shown} />)}
    </>
  );
}

/**
 * A search box. By default the list follows as the operator types; with `onEnter` only when they
 * press Enter or leave the box (for searches that need the whole value, such as an exact id).
 */
export function SearchField({
  id,
  label,
  hint,
  value,
  onValue,
  onEnter = false,
  maxLength,
}: {
  id: string;
  label: string;
  hint?: string;
  value: string;
  onValue: (value: string) => void;
  onEnter?: boolean;
  maxLength?: number;
}) {
  const set = (e: Event) => onValue((e.target as HTMLInputElement).value);
  return (
    <Field id={id} label={label} hint={hint}>
      <input
        id={id}
        type="search"
        value={value}
        maxLength={maxLength}
        {...(onEnter ? { onChange: set } : { onInput: set })}
      />
    </Field>
  );
}

export type Choice = string | { value: string; label: string };

/** A filter's drop-down; `all`, when given, is the first choice and stands for no filter (''). */
export function SelectField({
  id,
  label,
  value,
  onValue,
  all,
  choices,
}: {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  all?: string;
  choices: readonly Choice[];
}) {
  return (
    <Field id={id} label={label}>
      <select id={id} value={value} onChange={(e) => onValue((e.target as HTMLSelectElement).value)}>
        {all !== undefined && <option value="">{all}</option>}
        {choices.map((c) =>
          typeof c === 'string' ? (
            <option key={c}>{c}</option>
          ) : (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ),
        )}
      </select>
    </Field>
  );
}

/** A list the API answers as `{ data: [...] }`, loaded again when its path (with its query) changes. */
export function useRows<T>(path: string) {
  const loaded = useLoad(() => api<{ data: T[] }>('GET', path), [path]);
  return { ...loaded, rows: loaded.data?.data };
}

/** `value`, once it has stopped changing for `ms` milliseconds (a search box that asks the server). */
export function useDebounced<T>(value: T, ms = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * A keyset-paged list: the first page when `deps` change, then `more()` appends the next page (its
 * cursor came with the last one). Answers to superseded requests are dropped, so a fast typist never
 * sees an older search's rows.
 */
export function usePaged<T>(load: (cursor?: string) => Promise<Page<T>>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T[]; next?: string; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const counter = useRef(0);
  const fetchPage = (cursor?: string) => {
    const mine = ++counter.current;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load(cursor).then(
      (page) => {
        if (mine !== counter.current) return;
        setState((s) => ({
          data: cursor ? [...(s.data ?? []), ...page.items] : page.items,
          next: page.next,
          loading: false,
        }));
      },
      (error) => {
        if (mine !== counter.current) return;
        // A failed next page keeps the rows read so far; a failed first page shows none.
        setState((s) => (cursor ? { ...s, error, loading: false } : { error, loading: false }));
      },
    );
  };
  // The caller names what the load depends on (as with useLoad).
  useEffect(() => fetchPage(), deps);
  const { next } = state;
  return { ...state, more: next ? () => fetchPage(next) : undefined };
}
