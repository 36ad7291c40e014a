import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Empty, ErrorNote, Field, Loading, Status, Title, useAction, useLoad, when } from '../ui.tsx';

interface SessionRow {
  id: number;
  origin_owner_id: string;
  origin_owner_name: string;
  provider: string | null;
  created_at: string;
  expires_at: string;
  state: string;
}

export function SessionsView({ projectId }: { projectId: string }) {
  const base = `projects/${projectId}`;
  const sessions = useLoad(
    () => api<{ data: SessionRow[] }>('GET', `${base}/connect_sessions?page_size=50`),
    [projectId],
  );
  const [owner, setOwner] = useState('test-customer');
  const [ownerName, setOwnerName] = useState('Test customer');
  const [link, setLink] = useState<string>();
  const action = useAction();
  return (
    <>
      <Title lead="A connect session lets one end customer connect accounts through the hub. Create a test session to try the flow yourself.">
        Connect sessions
      </Title>
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const res = await action.run(() =>
            api('POST', `${base}/connect_sessions`, { origin_owner_id: owner, origin_owner_name: ownerName }),
          );
          if (!res) return;
          setLink(res.auth_link_url);
          sessions.reload();
        }}
      >
        <h2>Test session</h2>
        <ErrorNote error={action.error} />
        <div class="row">
          <Field id="s-owner" label="Owner id">
            <input
              id="s-owner"
              required
              value={owner}
              onInput={(e) => setOwner((e.target as HTMLInputElement).value)}
            />
          </Field>
          <Field id="s-owner-name" label="Owner name">
            <input
              id="s-owner-name"
              required
              value={ownerName}
              onInput={(e) => setOwnerName((e.target as HTMLInputElement).value)}
            />
          </Field>
          <div class="field">
            <button class="primary" type="submit" disabled={action.busy}>
              Create test session
            </button>
          </div>
        </div>
        {link && (
          <div class="notice" role="status">
            Session created.{' '}
            <a href={link} target="_blank" rel="noopener noreferrer">
              Open the hub in a new tab
            </a>{' '}
            <span class="hint">(the link works until the session expires or you revoke it)</span>
          </div>
        )}
      </form>
      <h2>Recent sessions</h2>
      <ErrorNote error={sessions.error} />
      {sessions.loading && !sessions.data && <Loading />}
      {sessions.data && sessions.data.data.length === 0 && (
        <Empty>
          No session yet. Your backend creates them with POST /connect_sessions, or create a test one above.
        </Empty>
      )}
      {sessions.data && sessions.data.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Id</th>
                <th>Owner</th>
                <th>Created</th>
                <th>Expires</th>
                <th>State</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.data.data.map((s) => (
                <tr key={s.id}>
                  <td class="mono">{s.id}</td>
                  <td>
                    {s.origin_owner_name} <span class="hint mono">{s.origin_owner_id}</span>
                  </td>
                  <td>{when(s.created_at)}</td>
                  <td>{when(s.expires_at)}</td>
                  <td>
                    <Status value={s.state} />
                  </td>
                  <td>
                    {s.state === 'active' && (
                      <button
                        type="button"
                        class="danger"
                        onClick={async () => {
                          await action.run(() => api('DELETE', `${base}/connect_sessions/${s.id}`));
                          sessions.reload();
                        }}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
