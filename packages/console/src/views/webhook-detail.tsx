import { useState } from 'preact/hooks';
import { api, qs } from '../api.ts';
import { ActionForm, OnceSecret, TextField, useField } from '../form.tsx';
import { type Column, List, SelectField, Table, useRows } from '../list.tsx';
import { navigate } from '../router.ts';
import { ErrorNote, Link, Loading, Status, Title, useAction, useLoad, when } from '../ui.tsx';
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

const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'];

const TRY_COLUMNS: Column<DeliveryDetail['log'][number]>[] = [
  { header: 'Try', cell: (l) => l.attempt },
  { header: 'When', cell: (l) => when(l.created_at) },
  { header: 'Answer', cell: (l) => (l.status_code !== null ? `HTTP ${l.status_code}` : (l.error ?? '—')) },
  { header: 'Duration', cell: (l) => `${l.latency_ms} ms` },
  { header: 'Response excerpt', cell: (l) => <code>{l.response_body?.slice(0, 300) ?? ''}</code> },
];

export function WebhookDetailView({ projectId, id }: { projectId: string; id: string }) {
  const base = `projects/${projectId}/webhook_endpoints/${id}`;
  const endpoint = useLoad(() => api<Endpoint>('GET', base), [base]);
  const status = useField('d-status', 'Status');
  const deliveries = useRows<Delivery>(`${base}/deliveries${qs({ status: status.value, page_size: 100 })}`);
  const [secret, setSecret] = useState<string>();
  const overlap = useField('overlap', 'Old secret keeps signing for (seconds)', '86400');
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
              <TextField id="ep-url" label="Endpoint URL" type="url" value={url ?? e.url} onValue={setUrl} />
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
          <ActionForm
            action={action}
            submit={() => api('POST', `${base}/rotate_secret`, { overlap_seconds: Number(overlap.value) })}
            done={(res) => {
              setSecret(res.secret);
              endpoint.reload();
            }}
          >
            <h2>Signing secret</h2>
            <div class="row">
              <TextField
                hint="Both signatures are sent meanwhile, so your receiver can switch without missing a delivery."
                type="number"
                min="0"
                {...overlap}
              />
              <div class="field">
                <button type="submit">Rotate secret</button>
              </div>
            </div>
            {secret && <OnceSecret label="New signing secret" value={secret} />}
          </ActionForm>
        </>
      )}
      <h2>Deliveries</h2>
      <div class="row">
        <SelectField all="All" choices={DELIVERY_STATUSES} {...status} />
        <div class="field">
          <button type="button" onClick={deliveries.reload}>
            Reload deliveries
          </button>
        </div>
      </div>
      <List
        state={{ data: deliveries.data, error: deliveries.error }}
        rows={deliveries.rows}
        empty="No delivery yet. Send a test event, or cause one (connect an account)."
        render={(rows) =>
          rows.map((d) => (
            <DeliveryCard
              key={d.id}
              base={base}
              delivery={d}
              onReplay={() =>
                act(
                  () => api('POST', `${base}/deliveries/${d.id}/replay`),
                  'Replay queued as a new delivery.',
                )
              }
            />
          ))
        }
      />
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
          <Table
            style={{ marginTop: '8px' }}
            rows={detail.data.log}
            columns={TRY_COLUMNS}
            rowKey={(l) => l.attempt}
            rowProps={(l) => ({ 'data-try': l.attempt })}
          />
          <details>
            <summary>Payload</summary>
            <pre>{json(detail.data.payload)}</pre>
          </details>
        </>
      )}
    </div>
  );
}
