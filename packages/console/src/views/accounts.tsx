import { useState } from 'preact/hooks';
import { api, qs } from '../api.ts';
import { Empty, ErrorNote, Field, Link, Loading, Status, Title, useLoad, when } from '../ui.tsx';
import { ACCOUNT_STATUSES, type Account } from './shared.ts';

export function AccountsView({ projectId }: { projectId: string }) {
  const [search, setSearch] = useState('');
  const [provider, setProvider] = useState('');
  const [status, setStatus] = useState('');
  const [type, setType] = useState('');
  const accounts = useLoad(
    () => api<Account[]>('GET', `projects/${projectId}/accounts${qs({ provider, status, page_size: 1000 })}`),
    [projectId, provider, status],
  );
  const all = accounts.data ?? [];
  const providers = [...new Set(all.map((a) => a.provider))].sort();
  const needle = search.trim().toLowerCase();
  const shown = all.filter(
    (a) =>
      (!needle ||
        a.origin_owner_id.toLowerCase().includes(needle) ||
        a.origin_owner_name.toLowerCase().includes(needle)) &&
      (!type || a.type === type),
  );
  return (
    <>
      <Title lead="Accounts your end customers connected. Open one to see why it is in its state and every attempt that led to it.">
        Linked accounts
      </Title>
      <search class="row">
        <Field id="acc-search" label="Owner id or name">
          <input
            id="acc-search"
            type="search"
            value={search}
            onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="acc-provider" label="Provider">
          <select
            id="acc-provider"
            value={provider}
            onChange={(e) => setProvider((e.target as HTMLSelectElement).value)}
          >
            <option value="">All providers</option>
            {providers.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </Field>
        <Field id="acc-status" label="Status">
          <select
            id="acc-status"
            value={status}
            onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}
          >
            <option value="">All statuses</option>
            {ACCOUNT_STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </Field>
        <Field id="acc-type" label="Type">
          <select id="acc-type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
            <option value="">All types</option>
            <option>production</option>
            <option>test</option>
          </select>
        </Field>
      </search>
      <ErrorNote error={accounts.error} />
      {accounts.loading && !accounts.data && <Loading />}
      {accounts.data && all.length === 0 && !provider && !status && (
        <Empty>
          No account yet. Create a connect session (
          <Link to={`/p/${projectId}/sessions`}>Connect sessions</Link>) and connect through the hub.
        </Empty>
      )}
      {accounts.data && all.length > 0 && shown.length === 0 && (
        <Empty>No account matches these filters.</Empty>
      )}
      {shown.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Owner</th>
                <th>Provider</th>
                <th>Status</th>
                <th>Type</th>
                <th>Connected</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Link to={`/p/${projectId}/accounts/${a.id}`}>{a.origin_owner_name}</Link>
                    <div class="hint mono">{a.origin_owner_id}</div>
                  </td>
                  <td>{a.provider_name ?? a.provider}</td>
                  <td>
                    <Status value={a.status} />
                  </td>
                  <td>{a.type ?? '—'}</td>
                  <td>{when(a.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
