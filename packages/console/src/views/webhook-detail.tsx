import { useState } from 'preact/hooks';
import { api, qs } from '../api.ts';
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
import { json } from './shared.ts';
import type { Endpoint } from './webhooks.tsx';

interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  replay_of: string | null;
}
interface DeliveryDetail extends Delivery {
  payload: Record<string, unknown>;
  log: Array<{
    attempt: number;
    status_code: number | null;
    error: string | null;
    latency_ms: number;
    response_body: string | null;
    created_at: string;
  }>;
}

export function WebhookDetailView({ projectId, id }: { projectId: string; id: string }) {
  const base = `projects/${projectId}/webhook_endpoints/${id}`;
  const endpoint = useLoad(() => api<Endpoint>('GET', base), [base]);
  const [status, setStatus] = useState('');
  const deliveries = useLoad(
    () => api<{ data: Delivery[] }>('GET', `${base}/deliveries${qs({ status, page_size: 100 })}`),
    [base, status],
  );
  const [secret, setSecret] = useState<string>();
  const [overlap, setOverlap] = useState('86400');
  const [url, setUrl] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const action = useAction();
  const e = endpoint.data;
  const act = async (fn: () => Promise<unknown>, message?: string) => {
    setNotice(undefined);
    const ok = await action.run(async () => {
      await fn();
      return true;
    });
    if (ok && message) setNotice(message);
    endpoint.reload();
    deliveries.reload();
  };
  return (
    <>
      <p>
        <Link to={`/p/${projectId}/webhooks`}>← Webhooks</Link>
      </p>
      <ErrorNote error={endpoint.error || action.error} />
      {notice && (
        <div class="notice" role="status">
          {notice}
        </div>
      )}
      {endpoint.loading && !e && <Loading />}
      {e && (
        <>
          <Title lead={e.description ?? undefined}>
            <span class="mono">{e.url}</span>
          </Title>
          <div class="card">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <Status value={e.enabled ? 'enabled' : 'disabled'} />
              </dd>
              <dt>Events</dt>
              <dd>{e.events ? e.events.join(', ') : 'all events'}</dd>
              <dt>Previous secret signs until</dt>
              <dd>{when(e.previous_secret_expires_at)}</dd>
            </dl>
            <form
              class="row"
              style={{ marginTop: '12px' }}
              onSubmit={(ev) => {
                ev.preventDefault();
                if (url) act(() => api('PATCH', base, { url }), 'URL saved.');
              }}
            >
              <Field id="ep-url" label="Endpoint URL">
                <input
                  id="ep-url"
                  type="url"
                  value={url ?? e.url}
                  onInput={(ev) => setUrl((ev.target as HTMLInputElement).value)}
                />
              </Field>
              <div class="field">
                <button type="submit">Save URL</button>
              </div>
            </form>
            <div class="actions">
              <button type="button" onClick={() => act(() => api('PATCH', base, { enabled: !e.enabled }))}>
                {e.enabled ? 'Disable endpoint' : 'Enable endpoint'}
              </button>
              <button
                type="button"
                onClick={() =>
                  act(
                    () => api('POST', `${base}/test`),
                    'Test event queued: it appears in the deliveries below.',
                  )
                }
              >
                Send test event
              </button>
              <button
                type="button"
                class="danger"
                onClick={async () => {
                  if (!confirm('Delete this endpoint and its delivery log?')) return;
                  if (await action.run(async () => (await api('DELETE', base), true)))
                    navigate(`/p/${projectId}/webhooks`);
                }}
              >
                Delete endpoint
              </button>
            </div>
          </div>
          <form
            class="card"
            onSubmit={async (ev) => {
              ev.preventDefault();
              const res = await action.run(() =>
                api('POST', `${base}/rotate_secret`, { overlap_seconds: Number(overlap) }),
              );
              if (res) setSecret(res.secret);
              endpoint.reload();
            }}
          >
            <h2>Signing secret</h2>
            <div class="row">
              <Field
                id="overlap"
                label="Old secret keeps signing for (seconds)"
                hint="Both signatures are sent meanwhile, so your receiver can switch without missing a delivery."
              >
                <input
                  id="overlap"
                  type="number"
                  min="0"
                  value={overlap}
                  onInput={(ev) => setOverlap((ev.target as HTMLInputElement).value)}
                />
              </Field>
              <div class="field">
                <button type="submit">Rotate secret</button>
              </div>
            </div>
            {secret && <OnceSecret label="New signing secret" value={secret} />}
          </form>
        </>
      )}
      <h2>Deliveries</h2>
      <div class="row">
        <Field id="d-status" label="Status">
          <select
            id="d-status"
            value={status}
            onChange={(ev) => setStatus((ev.target as HTMLSelectElement).value)}
          >
            <option value="">All</option>
            <option value="pending">pending</option>
            <option value="succeeded">succeeded</option>
            <option value="failed">failed</option>
          </select>
        </Field>
        <div class="field">
          <button type="button" onClick={deliveries.reload}>
            Reload deliveries
          </button>
        </div>
      </div>
      <ErrorNote error={deliveries.error} />
      {deliveries.data && deliveries.data.data.length === 0 && (
        <Empty>No delivery yet. Send a test event, or cause one (connect an account).</Empty>
      )}
      {deliveries.data?.data.map((d) => (
        <DeliveryCard
          key={d.id}
          base={base}
          delivery={d}
          onReplay={() =>
            act(() => api('POST', `${base}/deliveries/${d.id}/replay`), 'Replay queued as a new delivery.')
          }
        />
      ))}
    </>
  );
}

function DeliveryCard({
  base,
  delivery: d,
  onReplay,
}: {
  base: string;
  delivery: Delivery;
  onReplay: () => void;
}) {
  const [open, setOpen] = useState(false);
  const detail = useLoad(
    () => (open ? api<DeliveryDetail>('GET', `${base}/deliveries/${d.id}`) : Promise.resolve(undefined)),
    [open, d.attempts, d.status],
  );
  return (
    <div class="card" data-delivery={d.id}>
      <div class="actions">
        <Status value={d.status} />
        <strong>{d.event_type}</strong>
        <span class="hint">
          {when(d.created_at)} · {d.attempts} {d.attempts === 1 ? 'try' : 'tries'}
          {d.last_status_code !== null && ` · last answer HTTP ${d.last_status_code}`}
          {d.replay_of && ' · replay'}
        </span>
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide tries' : 'Show tries'}
        </button>
        <button type="button" onClick={onReplay}>
          Replay
        </button>
      </div>
      {d.last_error && <p class="hint">Last error: {d.last_error}</p>}
      {open && detail.data && (
        <>
          <div class="table-wrap" style={{ marginTop: '8px' }}>
            <table>
              <thead>
                <tr>
                  <th>Try</th>
                  <th>When</th>
                  <th>Answer</th>
                  <th>Duration</th>
                  <th>Response excerpt</th>
                </tr>
              </thead>
              <tbody>
                {detail.data.log.map((l) => (
                  <tr key={l.attempt} data-try={l.attempt}>
                    <td>{l.attempt}</td>
                    <td>{when(l.created_at)}</td>
                    <td>{l.status_code !== null ? `HTTP ${l.status_code}` : (l.error ?? '—')}</td>
                    <td>{l.latency_ms} ms</td>
                    <td>
                      <code>{l.response_body?.slice(0, 300) ?? ''}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <details>
            <summary>Payload</summary>
            <pre>{json(detail.data.payload)}</pre>
          </details>
        </>
      )}
    </div>
  );
}
