import { useState } from 'preact/hooks';
import { api, qs } from '../api.ts';
import { Empty, ErrorNote, Field, Loading, Title, useLoad, when } from '../ui.tsx';
import { json } from './shared.ts';

interface Entry {
  id: string;
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  before: unknown;
  after: unknown;
  created_at: string;
}

export function AuditView({ projectId }: { projectId: string }) {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [target, setTarget] = useState('');
  const log = useLoad(
    () =>
      api<{ data: Entry[]; total: number }>(
        'GET',
        `projects/${projectId}/audit_log${qs({ actor, action, target_type: target, page_size: 200 })}`,
      ),
    [projectId, actor, action, target],
  );
  return (
    <>
      <Title lead="Every change made through the console, the API or the CLI: who, what, when, and the record before and after (never secrets).">
        Audit log
      </Title>
      <search class="row">
        <Field id="au-actor" label="Who (operator email or API key id)">
          <input
            id="au-actor"
            type="search"
            value={actor}
            onChange={(e) => setActor((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="au-action" label="Action" hint="e.g. integration.created">
          <input
            id="au-action"
            type="search"
            value={action}
            onChange={(e) => setAction((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="au-target" label="Record type">
          <select
            id="au-target"
            value={target}
            onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}
          >
            <option value="">All</option>
            {[
              'project',
              'api_key',
              'integration',
              'account',
              'connect_session',
              'webhook_endpoint',
              'webhook_delivery',
            ].map((x) => (
              <option key={x}>{x}</option>
            ))}
          </select>
        </Field>
      </search>
      <ErrorNote error={log.error} />
      {log.loading && !log.data && <Loading />}
      {log.data && log.data.data.length === 0 && (
        <Empty>Nothing recorded{actor || action || target ? ' for these filters' : ' yet'}.</Empty>
      )}
      {log.data && log.data.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>What</th>
                <th>Record</th>
                <th>Change</th>
              </tr>
            </thead>
            <tbody>
              {log.data.data.map((e) => (
                <tr key={e.id}>
                  <td>{when(e.created_at)}</td>
                  <td>
                    {e.actor_id} <span class="hint">({e.actor_type.replace('_', ' ')})</span>
                  </td>
                  <td class="mono">{e.action}</td>
                  <td>
                    {e.target_type} <span class="hint mono">{e.target_id}</span>
                  </td>
                  <td>
                    <details>
                      <summary>Before / after</summary>
                      {e.before != null && (
                        <>
                          <strong>Before</strong>
                          <pre>{json(e.before)}</pre>
                        </>
                      )}
                      {e.after != null && (
                        <>
                          <strong>After</strong>
                          <pre>{json(e.after)}</pre>
                        </>
                      )}
                    </details>
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
