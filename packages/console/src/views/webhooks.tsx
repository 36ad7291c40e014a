import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ActionForm, OnceSecret, TextField, useField } from '../form.tsx';
import { type Column, List, useRows } from '../list.tsx';
import { ErrorNote, Link, Status, Title, useAction, when } from '../ui.tsx';

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

const columns = (projectId: string): Column<Endpoint>[] => [
  {
    header: 'URL',
    cell: (e) => (
      <>
        <Link to={`/p/${projectId}/webhooks/${e.id}`} class="mono">
          {e.url}
        </Link>
        {e.description && <div class="hint">{e.description}</div>}
      </>
    ),
  },
  { header: 'Events', cell: (e) => (e.events ? e.events.join(', ') : 'all events') },
  { header: 'Status', cell: (e) => <Status value={e.enabled ? 'enabled' : 'disabled'} /> },
  { header: 'Created', cell: (e) => when(e.created_at) },
];

export function WebhooksView({ projectId }: { projectId: string }) {
  const base = `projects/${projectId}`;
  const endpoints = useRows<Endpoint>(`${base}/webhook_endpoints?page_size=100`);
  const url = useField('wh-url', 'Endpoint URL');
  const description = useField('wh-desc', 'Description');
  const [events, setEvents] = useState<string[]>([]);
  const [secret, setSecret] = useState<string>();
  const action = useAction();
  return (
    <>
      <Title lead="Plugboard tells your backend about account changes with signed webhooks, retried until they are delivered.">
        Webhooks
      </Title>
      <List
        state={endpoints}
        rows={endpoints.rows}
        empty="No endpoint yet. Add the URL of your receiver below; events start flowing at once."
        columns={columns(projectId)}
        rowKey={(e) => e.id}
      />
      {secret && <OnceSecret label="Signing secret of the new endpoint" value={secret} />}
      <ActionForm
        action={action}
        submit={() =>
          api('POST', `${base}/webhook_endpoints`, {
            url: url.value,
            ...(description.value ? { description: description.value } : {}),
            ...(events.length ? { events } : {}),
          })
        }
        done={(res) => {
          setSecret(res.secret);
          url.onValue('');
          description.onValue('');
          setEvents([]);
          endpoints.reload();
        }}
      >
        <h2>New endpoint</h2>
        <ErrorNote error={action.error} />
        <TextField
          hint="HTTPS in production. Plugboard signs every delivery (Standard Webhooks)."
          type="url"
          required
          {...url}
        />
        <TextField {...description} />
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
      </ActionForm>
    </>
  );
}
