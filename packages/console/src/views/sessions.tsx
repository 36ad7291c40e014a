import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ActionForm, SubmitField, TextField, useField } from '../form.tsx';
import { List, useRows } from '../list.tsx';
import { ErrorNote, Status, Title, useAction, when } from '../ui.tsx';

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
  const sessions = useRows<SessionRow>(`${base}/connect_sessions?page_size=50`);
  const owner = useField('s-owner', 'Owner id', 'test-customer');
  const ownerName = useField('s-owner-name', 'Owner name', 'Test customer');
  const [link, setLink] = useState<string>();
  const action = useAction();
  return (
    <>
      <Title lead="A connect session lets one end customer connect accounts through the hub. Create a test session to try the flow yourself.">
        Connect sessions
      </Title>
      <ActionForm
        action={action}
        submit={() =>
          api('POST', `${base}/connect_sessions`, {
            origin_owner_id: owner.value,
            origin_owner_name: ownerName.value,
          })
        }
        done={(res) => {
          setLink(res.auth_link_url);
          sessions.reload();
        }}
      >
        <h2>Test session</h2>
        <ErrorNote error={action.error} />
        <div class="row">
          <TextField required {...owner} />
          <TextField required {...ownerName} />
          <SubmitField busy={action.busy}>Create test session</SubmitField>
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
      </ActionForm>
      <h2>Recent sessions</h2>
      <List
        state={sessions}
        rows={sessions.rows}
        empty="No session yet. Your backend creates them with POST /connect_sessions, or create a test one above."
        columns={[
          { header: 'Id', cell: (s) => s.id, class: 'mono' },
          {
            header: 'Owner',
            cell: (s) => (
              <>
                {s.origin_owner_name} <span class="hint mono">{s.origin_owner_id}</span>
              </>
            ),
          },
          { header: 'Created', cell: (s) => when(s.created_at) },
          { header: 'Expires', cell: (s) => when(s.expires_at) },
          { header: 'State', cell: (s) => <Status value={s.state} /> },
          {
            header: 'Actions',
            hidden: true,
            cell: (s) =>
              s.state === 'active' && (
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
              ),
          },
        ]}
        rowKey={(s) => s.id}
      />
    </>
  );
}
