import type { ComponentChildren } from 'preact';
import { api, qs } from '../api.ts';
import { useField } from '../form.tsx';
import { type Column, List, SearchField, SelectField } from '../list.tsx';
import { Link, Status, Title, useLoad, when } from '../ui.tsx';
import type { Attempt } from './shared.ts';

const FILTERS: Record<string, (a: Attempt) => boolean> = {
  all: () => true,
  failed: (a) => a.status === 'error',
  abandoned: (a) => a.status === 'cancelled' || a.status === 'expired',
  succeeded: (a) => a.status === 'authenticated',
};

const OUTCOMES = [
  { value: 'all', label: 'All' },
  { value: 'failed', label: 'Failed' },
  { value: 'abandoned', label: 'Abandoned (cancelled or expired)' },
  { value: 'succeeded', label: 'Succeeded' },
];

export function AttemptsView({ projectId }: { projectId: string }) {
  const owner = useField('att-owner', 'End customer (owner id)');
  const outcome = useField('att-filter', 'Outcome', 'all');
  const provider = useField('att-provider', 'Provider');
  const attempts = useLoad(
    () =>
      api<Attempt[]>(
        'GET',
        `projects/${projectId}/connection_attempts${qs({ origin_owner_id: owner.value.trim(), page_size: 500 })}`,
      ),
    [projectId, owner.value],
  );
  const all = attempts.data ?? [];
  const providers = [...new Set(all.map((a) => a.provider).filter(Boolean) as string[])].sort();
  const shown = all.filter(
    (a) => FILTERS[outcome.value]!(a) && (!provider.value || a.provider === provider.value),
  );
  return (
    <>
      <Title lead="Every time an end customer opened the hub to connect: who, which provider, how it ended and why.">
        Connection attempts
      </Title>
      <search class="row">
        <SearchField onEnter {...owner} />
        <SelectField all="All providers" choices={providers} {...provider} />
        <SelectField choices={OUTCOMES} {...outcome} />
      </search>
      <AttemptList
        projectId={projectId}
        state={attempts}
        attempts={shown}
        empty={
          all.length === 0 ? (
            <>
              No attempt yet. They appear when an end customer opens a connect session's link (
              <Link to={`/p/${projectId}/sessions`}>create a test session</Link>).
            </>
          ) : undefined
        }
      />
    </>
  );
}

const columns = (projectId: string): Column<Attempt>[] => [
  { header: 'When', cell: (a) => when(a.created_at) },
  { header: 'End customer', cell: (a) => a.origin_owner_id, class: 'mono' },
  { header: 'Provider', cell: (a) => a.provider ?? '—' },
  { header: 'Status', cell: (a) => <Status value={a.status} /> },
  { header: 'Reason', cell: (a) => (a.error ? `${a.error.code}: ${a.error.description}` : '—') },
  {
    header: 'Account',
    cell: (a) => (a.account ? <Link to={`/p/${projectId}/accounts/${a.account.id}`}>open</Link> : '—'),
  },
];

/** Attempts as a table; also on an account's page. */
export function AttemptList({
  projectId,
  state,
  attempts,
  empty = 'No attempt matches.',
}: {
  projectId: string;
  state: { data?: unknown; error?: unknown; loading?: boolean };
  attempts: Attempt[] | undefined;
  empty?: ComponentChildren;
}) {
  return (
    <List
      state={state}
      rows={attempts}
      empty={empty}
      columns={columns(projectId)}
      rowKey={(a) => a.id}
      rowProps={(a) => ({ 'data-attempt': a.id })}
    />
  );
}
