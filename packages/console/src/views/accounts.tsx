import { apiPage, qs } from '../api.ts';
import { useField } from '../form.tsx';
import { type Column, List, SearchField, SelectField, useDebounced, usePaged, useRows } from '../list.tsx';
import { Link, Status, Title, when } from '../ui.tsx';
import { ACCOUNT_STATUSES, type Account } from './shared.ts';

const PAGE_SIZE = 50;
const TYPES = ['production', 'test'];

const columns = (projectId: string): Column<Account>[] => [
  {
    header: 'Owner',
    cell: (a) => (
      <>
        <Link to={`/p/${projectId}/accounts/${a.id}`}>{a.origin_owner_name}</Link>
        <div class="hint mono">{a.origin_owner_id}</div>
      </>
    ),
  },
  { header: 'Provider', cell: (a) => a.provider_name ?? a.provider },
  { header: 'Status', cell: (a) => <Status value={a.status} /> },
  { header: 'Type', cell: (a) => a.type ?? '—' },
  { header: 'Connected', cell: (a) => when(a.created_at) },
];

/** Searched, filtered and paged by the server (GET /accounts?search=…&cursor=…), so no account is out of reach. */
export function AccountsView({ projectId }: { projectId: string }) {
  const search = useField('acc-search', 'Owner id or name');
  const provider = useField('acc-provider', 'Provider');
  const status = useField('acc-status', 'Status');
  const type = useField('acc-type', 'Type');
  const needle = useDebounced(search.value.trim());
  const base = `projects/${projectId}`;
  const filters = { search: needle, provider: provider.value, status: status.value, type: type.value };
  const accounts = usePaged(
    (cursor) => apiPage<Account>(`${base}/accounts${qs({ ...filters, page_size: PAGE_SIZE, cursor })}`),
    [projectId, ...Object.values(filters)],
  );
  // The providers to filter by: the project's integrations, and any other an account shown uses.
  const integrations = useRows<{ connector_key: string }>(`${base}/auth_configs?page_size=1000`);
  const providers = [
    ...new Set([
      ...(integrations.rows ?? []).map((i) => i.connector_key),
      ...(accounts.data ?? []).map((a) => a.provider),
      ...(provider.value ? [provider.value] : []),
    ]),
  ].sort();
  const filtered = Object.values(filters).some(Boolean);
  return (
    <>
      <Title lead="Accounts your end customers connected. Open one to see why it is in its state and every attempt that led to it.">
        Linked accounts
      </Title>
      <search class="row">
        <SearchField maxLength={200} {...search} />
        <SelectField all="All providers" choices={providers} {...provider} />
        <SelectField all="All statuses" choices={ACCOUNT_STATUSES} {...status} />
        <SelectField all="All types" choices={TYPES} {...type} />
      </search>
      <List
        state={accounts}
        rows={accounts.data}
        empty={
          filtered ? (
            'No account matches these filters.'
          ) : (
            <>
              No account yet. Create a connect session (
              <Link to={`/p/${projectId}/sessions`}>Connect sessions</Link>) and connect through the hub.
            </>
          )
        }
        columns={columns(projectId)}
        rowKey={(a) => a.id}
      />
      {accounts.more && accounts.data && (
        <div class="actions">
          <button type="button" onClick={accounts.more} disabled={accounts.loading}>
            Load more
          </button>
        </div>
      )}
    </>
  );
}
