import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import type { Project } from '../app.tsx';
import { navigate } from '../router.ts';
import {
  Empty,
  ErrorNote,
  Field,
  Link,
  Loading,
  OnceSecret,
  Status,
  Title,
  useAction,
  useLoad,
  when,
} from '../ui.tsx';

interface ApiKey {
  id: string;
  name: string | null;
  hint: string;
  created_at: string;
  revoked_at: string | null;
}

export function ProjectsView({ selected }: { selected?: string }) {
  const projects = useLoad(() => api<{ data: Project[] }>('GET', 'projects'), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; key: string }>();
  const action = useAction();
  const current = selected ?? projects.data?.data[0]?.project_id;
  return (
    <>
      <Title lead="Each project has its own integrations, accounts, webhooks and API keys. Your backend calls the API with a project's key.">
        Projects and API keys
      </Title>
      <ErrorNote error={projects.error} />
      {projects.loading && !projects.data && <Loading />}
      {projects.data && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Projects</caption>
            <thead>
              <tr>
                <th>Name</th>
                <th>Project id</th>
                <th>Created</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {projects.data.data.map((p) => (
                <tr key={p.project_id} aria-current={p.project_id === current ? 'true' : undefined}>
                  <td>{p.name}</td>
                  <td class="mono">{p.project_id}</td>
                  <td>{when(p.created_at)}</td>
                  <td class="actions">
                    <Link to={`/projects/${p.project_id}`}>API keys</Link>
                    <Link to={`/p/${p.project_id}/integrations`}>Open</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const res = await action.run(() => api('POST', 'projects', { name }));
          if (!res) return;
          setCreated({ name: res.name, key: res.api_key });
          setName('');
          projects.reload();
          navigate(`/projects/${res.project_id}`, true);
        }}
      >
        <h2>New project</h2>
        <ErrorNote error={action.error} />
        <div class="row">
          <Field id="project-name" label="Project name">
            <input
              id="project-name"
              required
              value={name}
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          </Field>
          <div class="field">
            <button class="primary" type="submit" disabled={action.busy}>
              Create project
            </button>
          </div>
        </div>
      </form>
      {created && <OnceSecret label={`API key of ${created.name}`} value={created.key} />}
      {current && <ApiKeys projectId={current} key={current} />}
    </>
  );
}

function ApiKeys({ projectId }: { projectId: string }) {
  const keys = useLoad(() => api<{ data: ApiKey[] }>('GET', `projects/${projectId}/api_keys`), [projectId]);
  const [name, setName] = useState('');
  const [newKey, setNewKey] = useState<string>();
  const action = useAction();
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">
        API keys of <span class="mono">{projectId}</span>
      </h2>
      <ErrorNote error={keys.error || action.error} />
      {newKey && <OnceSecret label="New API key" value={newKey} />}
      {keys.data && keys.data.data.length === 0 && (
        <Empty>This project has no API key yet. Create one below and give it to your backend.</Empty>
      )}
      {keys.data && keys.data.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Key starts with</th>
                <th>Created</th>
                <th>Status</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.data.map((k) => (
                <tr key={k.id}>
                  <td>{k.name ?? '—'}</td>
                  <td class="mono">{k.hint}</td>
                  <td>{when(k.created_at)}</td>
                  <td>{k.revoked_at ? <Status value="revoked" /> : <Status value="active" />}</td>
                  <td>
                    {!k.revoked_at && (
                      <button
                        type="button"
                        class="danger"
                        aria-label={`Revoke key ${k.name ?? k.hint}`}
                        onClick={async () => {
                          if (!confirm(`Revoke ${k.name ?? k.hint}? Requests made with it fail from now on.`))
                            return;
                          await action.run(() =>
                            api('POST', `projects/${projectId}/api_keys/${k.id}/revoke`),
                          );
                          keys.reload();
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
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const res = await action.run(() =>
            api('POST', `projects/${projectId}/api_keys`, name ? { name } : {}),
          );
          if (!res) return;
          setNewKey(res.api_key);
          setName('');
          keys.reload();
        }}
      >
        <div class="row">
          <Field
            id="key-name"
            label="Key name"
            hint="Optional: where the key is used, e.g. production backend."
          >
            <input
              id="key-name"
              value={name}
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          </Field>
          <div class="field">
            <button class="primary" type="submit" disabled={action.busy}>
              Create API key
            </button>
          </div>
        </div>
      </form>
    </section>
  );
}
