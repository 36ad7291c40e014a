import { api } from '../api.ts';
import { ErrorNote, Loading, Status, Title, useLoad, when } from '../ui.tsx';
import { KeyRotationPanel } from './system-key-rotation.tsx';

interface SystemStatus {
  version: string;
  database: string;
  migrations: Array<{ name: string; applied_at: string }>;
  key_ring: {
    current_version: number | null;
    versions: Array<{ version: number; created_at: string }>;
    rotation: Array<{ table: string; total: number; on_current: number; by_version: Record<string, number> }>;
    rotation_complete: boolean;
  };
  webhooks: {
    pending: number;
    overdue: number;
    failed: number;
    oldest_due_at: string | null;
    last_try_at: string | null;
    worker_in_process: boolean;
    worker_healthy: boolean;
  };
}

export function SystemView() {
  const s = useLoad(() => api<SystemStatus>('GET', 'system'), []);
  const d = s.data;
  return (
    <>
      <Title lead="The state of this Plugboard installation.">System</Title>
      <ErrorNote error={s.error} />
      {s.loading && !d && <Loading />}
      {d && (
        <>
          <div class="card">
            <dl class="facts">
              <dt>Version</dt>
              <dd>{d.version}</dd>
              <dt>Database</dt>
              <dd>{d.database === 'pglite' ? 'Embedded PostgreSQL (PGlite)' : 'PostgreSQL'}</dd>
              <dt>Schema</dt>
              <dd>
                {d.migrations.length} migrations applied, latest {d.migrations.at(-1)?.name}
              </dd>
            </dl>
          </div>
          <h2>Encryption key ring</h2>
          <div class="card">
            <p>
              Current key version <strong>{d.key_ring.current_version ?? '—'}</strong> (
              {d.key_ring.versions.length} in the ring).{' '}
              {d.key_ring.rotation_complete ? (
                <Status value="active" />
              ) : (
                <span>
                  <Status value="pending" /> Some secrets are still under older keys: press Finish rotation
                  below.
                </span>
              )}
            </p>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Secrets in</th>
                    <th>Under the current key</th>
                    <th>Progress</th>
                  </tr>
                </thead>
                <tbody>
                  {d.key_ring.rotation.map((r) => (
                    <tr key={r.table}>
                      <td>{r.table.replace('_', ' ')}</td>
                      <td>
                        {r.on_current} of {r.total}
                      </td>
                      <td>
                        <progress
                          max={Math.max(r.total, 1)}
                          value={r.total === 0 ? 1 : r.on_current}
                          aria-label={`${r.table} rotation progress`}
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <KeyRotationPanel
              currentVersion={d.key_ring.current_version}
              complete={d.key_ring.rotation_complete}
              onEnded={s.reload}
            />
          </div>
          <h2>Webhook delivery</h2>
          <div class="card">
            <dl class="facts">
              <dt>Worker</dt>
              <dd>
                <Status value={d.webhooks.worker_healthy ? 'active' : 'error'} />{' '}
                {d.webhooks.worker_healthy
                  ? 'Deliveries are picked up on time.'
                  : `${d.webhooks.overdue} deliveries are overdue: check that a worker runs (plugboard serve with PLUGBOARD_WEBHOOK_WORKER=true, or plugboard worker).`}
              </dd>
              <dt>Runs inside serve</dt>
              <dd>{d.webhooks.worker_in_process ? 'yes' : 'no (dedicated workers)'}</dd>
              <dt>Backlog</dt>
              <dd>
                {d.webhooks.pending} pending, {d.webhooks.failed} failed
              </dd>
              <dt>Oldest due</dt>
              <dd>{when(d.webhooks.oldest_due_at)}</dd>
              <dt>Last try</dt>
              <dd>{when(d.webhooks.last_try_at)}</dd>
            </dl>
          </div>
          <h2>Migrations</h2>
          <ul>
            {d.migrations.map((m) => (
              <li key={m.name}>
                <code>{m.name}</code> <span class="hint">{when(m.applied_at)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
