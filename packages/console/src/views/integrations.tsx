import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { TextField, useField } from '../form.tsx';
import { List, SearchField, SelectField, useRows } from '../list.tsx';
import { Empty, ErrorNote, Loading, Status, Title, useAction, useLoad } from '../ui.tsx';

interface ConnectorMeta {
  provider: string;
  provider_name: string;
  category: string;
  active: boolean;
  resources: { images: { logo_url: string } };
}
interface AuthConfig {
  id: string;
  name: string;
  active: boolean;
  connector_key: string;
  connector_label: string;
  logo_url: string;
  authentication_config_key: string;
  oauth_client_id: string | null;
  oauth_scopes: string[] | null;
  urls: Record<string, string>;
}

export function IntegrationsView({ projectId }: { projectId: string }) {
  const base = `projects/${projectId}`;
  const catalogue = useLoad(() => api<ConnectorMeta[]>('GET', `${base}/connectors/meta`), [projectId]);
  const enabled = useRows<AuthConfig>(`${base}/auth_configs?page_size=1000`);
  const search = useField('search', 'Search connectors');
  const category = useField('category', 'Category');
  const [onlyEnabled, setOnlyEnabled] = useState(false);
  const [chosen, setChosen] = useState<ConnectorMeta>();
  const action = useAction();
  const reload = () => {
    catalogue.reload();
    enabled.reload();
  };

  const configs = enabled.rows ?? [];
  const categories = [...new Set((catalogue.data ?? []).map((c) => c.category))].sort();
  const shown = (catalogue.data ?? []).filter(
    (c) =>
      `${c.provider_name} ${c.provider}`.toLowerCase().includes(search.value.toLowerCase()) &&
      (!category.value || c.category === category.value) &&
      (!onlyEnabled || configs.some((a) => a.connector_key === c.provider)),
  );

  return (
    <>
      <Title lead="Enable a connector to let your end customers connect that provider. OAuth connectors need your OAuth app's client id and secret.">
        Integrations
      </Title>
      <ErrorNote error={catalogue.error || enabled.error || action.error} />
      <section aria-labelledby="enabled-title">
        <h2 id="enabled-title">Enabled in this project</h2>
        <List
          state={{ data: enabled.data }}
          rows={configs}
          empty="No integration yet. Pick a connector from the catalogue below and enable it."
          columns={[
            {
              header: 'Integration',
              cell: (a) => (
                <>
                  {a.name} <span class="hint">({a.connector_key})</span>
                </>
              ),
            },
            {
              header: 'Auth',
              cell: (a) => (
                <>
                  {a.authentication_config_key}
                  {a.oauth_client_id && <span class="hint"> · client {a.oauth_client_id}</span>}
                </>
              ),
            },
            { header: 'Status', cell: (a) => <Status value={a.active ? 'enabled' : 'disabled'} /> },
            {
              header: 'Actions',
              hidden: true,
              class: 'actions',
              cell: (a) => (
                <>
                  <button
                    type="button"
                    onClick={async () => {
                      await action.run(() =>
                        api('PATCH', `${base}/auth_configs/${a.id}`, { enabled: !a.active }),
                      );
                      reload();
                    }}
                  >
                    {a.active ? `Disable ${a.name}` : `Enable ${a.name}`}
                  </button>
                  <button
                    type="button"
                    class="danger"
                    onClick={async () => {
                      if (!confirm(`Delete the ${a.name} integration?`)) return;
                      await action.run(() => api('DELETE', `${base}/auth_configs/${a.id}`));
                      reload();
                    }}
                  >
                    Delete
                  </button>
                </>
              ),
            },
          ]}
          rowKey={(a) => a.id}
        />
      </section>
      <section aria-labelledby="catalogue-title">
        <h2 id="catalogue-title">Catalogue</h2>
        <div class="row">
          <SearchField {...search} />
          <SelectField all="All categories" choices={categories} {...category} />
          <div class="field">
            <label>
              <input type="checkbox" checked={onlyEnabled} onChange={() => setOnlyEnabled(!onlyEnabled)} />{' '}
              Enabled only
            </label>
          </div>
        </div>
        {catalogue.loading && !catalogue.data && <Loading />}
        {chosen && (
          <EnableForm
            key={chosen.provider}
            base={base}
            connector={chosen}
            onDone={() => {
              setChosen(undefined);
              reload();
            }}
          />
        )}
        {catalogue.data && shown.length === 0 && (
          <Empty>No connector matches. Clear the search or the filters.</Empty>
        )}
        <ul class="grid" style={{ listStyle: 'none', padding: 0 }}>
          {shown.map((c) => (
            <li key={c.provider}>
              <button
                type="button"
                class="tile"
                aria-pressed={chosen?.provider === c.provider}
                onClick={() => setChosen(c)}
              >
                <img src={c.resources.images.logo_url} alt="" loading="lazy" />
                <span>
                  {c.provider_name}
                  <small>
                    {c.category}
                    {c.active ? ' · enabled' : ''}
                  </small>
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function EnableForm({
  base,
  connector,
  onDone,
}: {
  base: string;
  connector: ConnectorMeta;
  onDone: () => void;
}) {
  const [f, setF] = useState({
    name: '',
    client_id: '',
    client_secret: '',
    scopes: '',
    api_base_url: '',
    authorization_url: '',
    token_url: '',
  });
  const action = useAction();
  const input = (k: keyof typeof f, label: string, hint?: string, type = 'text') => (
    <TextField
      id={`enable-${k}`}
      label={label}
      hint={hint}
      type={type}
      value={f[k]}
      onValue={(v) => setF({ ...f, [k]: v })}
      autoComplete="off"
    />
  );
  return (
    <form
      class="card"
      aria-labelledby="enable-title"
      onSubmit={async (e) => {
        e.preventDefault();
        const urls = Object.fromEntries(
          (['api_base_url', 'authorization_url', 'token_url'] as const)
            .filter((k) => f[k])
            .map((k) => [k, f[k]]),
        );
        const body = {
          connector_key: connector.provider,
          ...(f.name ? { name: f.name } : {}),
          ...(f.client_id || f.client_secret
            ? {
                oauth: {
                  client_id: f.client_id,
                  client_secret: f.client_secret,
                  ...(f.scopes ? { scopes: f.scopes.split(/[\s,]+/).filter(Boolean) } : {}),
                },
              }
            : {}),
          ...(Object.keys(urls).length ? { urls } : {}),
        };
        if (await action.run(() => api('POST', `${base}/auth_configs`, body))) onDone();
      }}
    >
      <h3 id="enable-title">
        <img src={connector.resources.images.logo_url} alt="" width={24} height={24} /> Enable{' '}
        {connector.provider_name}
      </h3>
      <ErrorNote error={action.error} />
      {input('name', 'Display name', `Defaults to ${connector.provider_name}.`)}
      <fieldset>
        <legend>OAuth app (only for OAuth connectors)</legend>
        <div class="row">
          {input('client_id', 'Client id')}
          {input('client_secret', 'Client secret', 'Stored encrypted; never shown again.', 'password')}
        </div>
        {input('scopes', 'Scopes', 'Separated by spaces or commas; the connector’s defaults when empty.')}
      </fieldset>
      <details>
        <summary>URL overrides</summary>
        {input('api_base_url', 'API base URL')}
        {input('authorization_url', 'Authorization URL')}
        {input('token_url', 'Token URL')}
      </details>
      <div class="actions" style={{ marginTop: '12px' }}>
        <button class="primary" type="submit" disabled={action.busy}>
          Enable {connector.provider_name}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
