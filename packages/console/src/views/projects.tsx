import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import type { Project } from '../app.tsx';
import { ActionForm, OnceSecret, SubmitField, TextField, useField } from '../form.tsx';
import { type Column, List, useRows } from '../list.tsx';
import { navigate } from '../router.ts';
import { ErrorNote, Link, Status, Title, useAction, when } from '../ui.tsx';

interface ApiKey {
  id: string;
  name: string | null;
  hint: string;
  created_at: string;
  revoked_at: string | null;
}

const PROJECT_COLUMNS: Column<Project>[] = [
  { header: 'Name', cell: (p) => p.name },
  { header: 'Project id', cell: (p) => p.project_id, class: 'mono' },
  { header: 'Created', cell: (p) => when(p.created_at) },
  {
    header: 'Actions',
    hidden: true,
    cell: (p) => (
      <>
        <Link to={`/projects/${p.project_id}`}>API keys</Link>
        <Link to={`/p/${p.project_id}/integrations`}>Open</Link>
      </>
    ),
    class: 'actions',
  },
];

export function ProjectsView({ selected }: { selected?: string }) {
  const projects = useRows<Project>('projects');
  const name = useField('project-name', 'Project name');
  const [created, setCreated] = useState<{ name: string; key: string }>();
  const action = useAction();
  const current = selected ?? projects.rows?.[0]?.project_id;
  return (
    <>
      <Title lead="Each project has its own integrations, accounts, webhooks and API keys. Your backend calls the API with a project's key.">
        Projects and API keys
      </Title>
      <List
        state={projects}
        rows={projects.rows}
        caption="Projects"
        columns={PROJECT_COLUMNS}
        rowKey={(p) => p.project_id}
        rowProps={(p) => ({ 'aria-current': p.project_id === current ? 'true' : undefined })}
      />
      <ActionForm
        action={action}
        submit={() => api('POST', 'projects', { name: name.value })}
        done={(res) => {
          setCreated({ name: res.name, key: res.api_key });
          name.onValue('');
          projects.reload();
          navigate(`/projects/${res.project_id}`, true);
        }}
      >
        <h2>New project</h2>
        <ErrorNote error={action.error} />
        <div class="row">
          <TextField required {...name} />
          <SubmitField busy={action.busy}>Create project</SubmitField>
        </div>
      </ActionForm>
      {created && <OnceSecret label={`API key of ${created.name}`} value={created.key} />}
      {current && <ApiKeys projectId={current} key={current} />}
    </>
  );
}

function ApiKeys({ projectId }: { projectId: string }) {
  const keys = useRows<ApiKey>(`projects/${projectId}/api_keys`);
  const name = useField('key-name', 'Key name');
  const [newKey, setNewKey] = useState<string>();
  const action = useAction();
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">
        API keys of <span class="mono">{projectId}</span>
      </h2>
      <ErrorNote error={keys.error || action.error} />
      {newKey && <OnceSecret label="New API key" value={newKey} />}
      <List
        state={{ data: keys.data }}
        rows={keys.rows}
        empty="This project has no API key yet. Create one below and give it to your backend."
        columns={[
          { header: 'Name', cell: (k) => k.name ?? '—' },
          { header: 'Key starts with', cell: (k) => k.hint, class: 'mono' },
          { header: 'Created', cell: (k) => when(k.created_at) },
          { header: 'Status', cell: (k) => <Status value={k.revoked_at ? 'revoked' : 'active'} /> },
          {
            header: 'Actions',
            hidden: true,
            cell: (k) =>
              !k.revoked_at && (
                <button
                  type="button"
                  class="danger"
                  aria-label={`Revoke key ${k.name ?? k.hint}`}
                  onClick={async () => {
                    if (!confirm(`Revoke ${k.name ?? k.hint}? Requests made with it fail from now on.`))
                      return;
                    await action.run(() => api('POST', `projects/${projectId}/api_keys/${k.id}/revoke`));
                    keys.reload();
                  }}
                >
                  Revoke
                </button>
              ),
          },
        ]}
        rowKey={(k) => k.id}
      />
      <ActionForm
        action={action}
        submit={() => api('POST', `projects/${projectId}/api_keys`, name.value ? { name: name.value } : {})}
        done={(res) => {
          setNewKey(res.api_key);
          name.onValue('');
          keys.reload();
        }}
      >
        <div class="row">
          <TextField hint="Optional: where the key is used, e.g. production backend." {...name} />
          <SubmitField busy={action.busy}>Create API key</SubmitField>
        </div>
      </ActionForm>
    </section>
  );
}
