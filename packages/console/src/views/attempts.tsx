import { useState } from 'preact/hooks';
import { api, qs } from '../api.ts';
import { Empty, ErrorNote, Field, Link, Loading, Status, Title, useLoad, when } from '../ui.tsx';
import type { Attempt } from './shared.ts';

const FILTERS: Record<string, (a: Attempt) => boolean> = {
  all: () => true,
  failed: (a) => a.status === 'error',
  abandoned: (a) => a.status === 'cancelled' || a.status === 'expired',
  succeeded: (a) => a.status === 'authenticated',
};

export function AttemptsView({ projectId }: { projectId: string }) {
  const [owner, setOwner] = useState('');
  const [filter, setFilter] = useState('all');
  const [provider, setProvider] = useState('');
  const attempts = useLoad(
    () =>
      api<Attempt[]>(
        'GET',
        `projects/${projectId}/connection_attempts${qs({ origin_owner_id: owner.trim(), page_size: 500 })}`,
      ),
    [projectId, owner],
  );
  const all = attempts.data ?? [];
  const providers = [...new Set(all.map((a) => a.provider).filter(Boolean) as string[])].sort();
  const shown = all.filter((a) => FILTERS[filter]!(a) && (!provider || a.provider === provider));
  return (
    <>
      <Title lead="Every time an end customer opened the hub to connect: who, which provider, how it ended and why.">
        Connection attempts
      </Title>
      <search class="row">
        <Field id="att-owner" label="End customer (owner id)">
          <input
            id="att-owner"
            type="search"
            value={owner}
            onChange={(e) => setOwner((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="att-provider" label="Provider">
          <select
            id="att-provider"
            value={provider}
            onChange={(e) => setProvider((e.target as HTMLSelectElement).value)}
          >
            <option value="">All providers</option>
            {providers.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </Field>
        <Field id="att-filter" label="Outcome">
          <select
            id="att-filter"
            value={filter}
            onChange={(e) => setFilter((e.target as HTMLSelectElement).value)}
          >
            <option value="all">All</option>
            <option value="failed">Failed</option>
            <option value="abandoned">Abandoned (cancelled or expired)</option>
            <option value="succeeded">Succeeded</option>
          </select>
        </Field>
      </search>
      <ErrorNote error={attempts.error} />
      {attempts.loading && !attempts.data && <Loading />}
      {attempts.data && all.length === 0 && (
        <Empty>
          No attempt yet. They appear when an end customer opens a connect session's link (
          <Link to={`/p/${projectId}/sessions`}>create a test session</Link>).
        </Empty>
      )}
      {attempts.data && all.length > 0 && <AttemptTable projectId={projectId} attempts={shown} />}
    </>
  );
}

export function AttemptTable({ projectId, attempts }: { projectId: string; attempts: Attempt[] }) {
  if (attempts.length === 0) return <Empty>No attempt matches.</Empty>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>End customer</th>
            <th>Provider</th>
            <th>Status</th>
            <th>Reason</th>
            <th>Account</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((a) => (
            <tr key={a.id} data-attempt={a.id}>
              <td>{when(a.created_at)}</td>
              <td class="mono">{a.origin_owner_id}</td>
              <td>{a.provider ?? '—'}</td>
              <td>
                <Status value={a.status} />
              </td>
              <td>{a.error ? `${a.error.code}: ${a.error.description}` : '—'}</td>
              <td>{a.account ? <Link to={`/p/${projectId}/accounts/${a.account.id}`}>open</Link> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
