import { useState } from 'preact/hooks';
import { api } from '../api.ts';
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

export interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  events: string[] | null;
  enabled: boolean;
  previous_secret_expires_at: string | null;
  created_at: string;
}

// The server's WEBHOOK_EVENT_TYPES (webhooks/events.ts); the API refuses any other name.
export const EVENT_TYPES = [
  'account.created',
  'account.updated',
  'account.deleted',
  'account.refresh_failed',
  'account.refresh_recovered',
  'account.provider_event',
  'connect_session.created',
  'connection_attempt.failed',
];

export function WebhooksView({ projectId }: { projectId: string }) {
  const base = `projects/${projectId}`;
  const endpoints = useLoad(
    () => api<{ data: Endpoint[] }>('GET', `${base}/webhook_endpoints?page_size=100`),
    [projectId],
  );
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [secret, setSecret] = useState<string>();
  const action = useAction();
  return (
    <>
      <Title lead="Plugboard tells your backend about account changes with signed webhooks, retried until they are delivered.">
        Webhooks
      </Title>
      <ErrorNote error={endpoints.error} />
      {endpoints.loading && !endpoints.data && <Loading />}
      {endpoints.data && endpoints.data.data.length === 0 && (
        <Empty>No endpoint yet. Add the URL of your receiver below; events start flowing at once.</Empty>
      )}
      {endpoints.data && endpoints.data.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>URL</th>
                <th>Events</th>
                <th>Status</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.data.data.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Link to={`/p/${projectId}/webhooks/${e.id}`} class="mono">
                      {e.url}
                    </Link>
                    {e.description && <div class="hint">{e.description}</div>}
                  </td>
                  <td>{e.events ? e.events.join(', ') : 'all events'}</td>
                  <td>
                    <Status value={e.enabled ? 'enabled' : 'disabled'} />
                  </td>
                  <td>{when(e.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {secret && <OnceSecret label="Signing secret of the new endpoint" value={secret} />}
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const res = await action.run(() =>
            api('POST', `${base}/webhook_endpoints`, {
              url,
              ...(description ? { description } : {}),
              ...(events.length ? { events } : {}),
            }),
          );
          if (!res) return;
          setSecret(res.secret);
          setUrl('');
          setDescription('');
          setEvents([]);
          endpoints.reload();
        }}
      >
        <h2>New endpoint</h2>
        <ErrorNote error={action.error} />
        <Field
          id="wh-url"
          label="Endpoint URL"
          hint="HTTPS in production. Plugboard signs every delivery (Standard Webhooks)."
        >
          <input
            id="wh-url"
            type="url"
            required
            value={url}
            onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="wh-desc" label="Description">
          <input
            id="wh-desc"
            value={description}
            onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
          />
        </Field>
        <fieldset>
          <legend>Events (none ticked: every event)</legend>
          {EVENT_TYPES.map((type) => (
            <label key={type} style={{ fontWeight: 'normal' }}>
              <input
                type="checkbox"
                checked={events.includes(type)}
                onChange={() =>
                  setEvents(events.includes(type) ? events.filter((x) => x !== type) : [...events, type])
                }
              />{' '}
              {type}
            </label>
          ))}
        </fieldset>
        <div class="actions" style={{ marginTop: '12px' }}>
          <button class="primary" type="submit" disabled={action.busy}>
            Create endpoint
          </button>
        </div>
      </form>
    </>
  );
}
