import { qs } from '../api.ts';
import { useField } from '../form.tsx';
import { type Column, List, SearchField, SelectField, useRows } from '../list.tsx';
import { Title, when } from '../ui.tsx';
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

const RECORD_TYPES = [
  'project',
  'api_key',
  'integration',
  'account',
  'connect_session',
  'webhook_endpoint',
  'webhook_delivery',
];

const COLUMNS: Column<Entry>[] = [
  { header: 'When', cell: (e) => when(e.created_at) },
  {
    header: 'Who',
    cell: (e) => (
      <>
        {e.actor_id} <span class="hint">({e.actor_type.replace('_', ' ')})</span>
      </>
    ),
  },
  { header: 'What', cell: (e) => e.action, class: 'mono' },
  {
    header: 'Record',
    cell: (e) => (
      <>
        {e.target_type} <span class="hint mono">{e.target_id}</span>
      </>
    ),
  },
  { header: 'Change', cell: (e) => <Change entry={e} /> },
];

function Change({ entry: e }: { entry: Entry }) {
  return (
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
  );
}

export function AuditView({ projectId }: { projectId: string }) {
  const actor = useField('au-actor', 'Who (operator email or API key id)');
  const action = useField('au-action', 'Action');
  const target = useField('au-target', 'Record type');
  const filters = { actor: actor.value, action: action.value, target_type: target.value };
  const log = useRows<Entry>(`projects/${projectId}/audit_log${qs({ ...filters, page_size: 200 })}`);
  return (
    <>
      <Title lead="Every change made through the console, the API or the CLI: who, what, when, and the record before and after (never secrets).">
        Audit log
      </Title>
      <search class="row">
        <SearchField onEnter {...actor} />
        <SearchField hint="e.g. integration.created" onEnter {...action} />
        <SelectField all="All" choices={RECORD_TYPES} {...target} />
      </search>
      <List
        state={log}
        rows={log.rows}
        empty={`Nothing recorded${actor.value || action.value || target.value ? ' for these filters' : ' yet'}.`}
        columns={COLUMNS}
        rowKey={(e) => e.id}
      />
    </>
  );
}
