import { api, qs } from '../api.ts';
import { navigate } from '../router.ts';
import { ErrorNote, Link, Loading, Status, Title, useAction, useLoad, when } from '../ui.tsx';
import { AttemptList } from './attempts.tsx';
import { type Account, type Attempt, json } from './shared.ts';

export function AccountDetailView({ projectId, id }: { projectId: string; id: string }) {
  const base = `projects/${projectId}`;
  const account = useLoad(() => api<Account>('GET', `${base}/accounts/${id}`), [projectId, id]);
  const attempts = useLoad(async () => {
    if (!account.data) return [];
    const res = await api<Attempt[]>(
      'GET',
      `${base}/connection_attempts${qs({ origin_owner_id: account.data.origin_owner_id, page_size: 200 })}`,
    );
    return res.filter((a) => !a.provider || a.provider === account.data!.provider);
  }, [account.data]);
  const action = useAction();
  const a = account.data;
  return (
    <>
      <p>
        <Link to={`/p/${projectId}/accounts`}>← Linked accounts</Link>
      </p>
      <ErrorNote error={account.error || action.error} />
      {account.loading && !a && <Loading />}
      {a && (
        <>
          <Title lead={`${a.provider_name ?? a.provider} account of ${a.origin_owner_id}`}>
            {a.origin_owner_name}
          </Title>
          <div class="card">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <Status value={a.status} />
              </dd>
              <dt>Account id</dt>
              <dd class="mono">{a.id}</dd>
              <dt>Provider</dt>
              <dd>{a.provider}</dd>
              <dt>Type</dt>
              <dd>{a.type ?? '—'}</dd>
              <dt>Label</dt>
              <dd>{a.label ?? '—'}</dd>
              <dt>Connected</dt>
              <dd>{when(a.created_at)}</dd>
              <dt>Updated</dt>
              <dd>{when(a.updated_at)}</dd>
            </dl>
          </div>
          <h2>Status reasons</h2>
          {a.status_reasons?.length ? (
            <ul>
              {a.status_reasons.map((r) => (
                <li key={r.timestamp + r.code}>
                  <strong>{r.code}</strong>: {r.description} <span class="hint">({when(r.timestamp)})</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="hint">No reason recorded: the account works as far as Plugboard knows.</p>
          )}
          <h2>Setup information</h2>
          <pre>{json(a.setup_information ?? {})}</pre>
          <h2>Credentials (masked)</h2>
          <pre>{json(a.credentials ?? {})}</pre>
          <h2>Metadata</h2>
          <pre>{json(a.metadata ?? {})}</pre>
          <h2>Connection attempts</h2>
          <AttemptList
            projectId={projectId}
            state={{ data: attempts.data, error: attempts.error }}
            attempts={attempts.data}
          />
          <div class="actions" style={{ marginTop: '16px' }}>
            <button
              type="button"
              title="Asks the provider for new OAuth tokens now; accounts with a fixed key have nothing to refresh."
              onClick={async () => {
                if (await action.run(() => api('POST', `${base}/accounts/${id}/refresh`))) account.reload();
              }}
            >
              Refresh now
            </button>
            <button
              type="button"
              class="danger"
              onClick={async () => {
                if (!confirm(`Delete this account? ${a.origin_owner_name} will have to connect again.`))
                  return;
                if (await action.run(() => api('DELETE', `${base}/accounts/${id}`)))
                  navigate(`/p/${projectId}/accounts`);
              }}
            >
              Delete account
            </button>
          </div>
        </>
      )}
    </>
  );
}
