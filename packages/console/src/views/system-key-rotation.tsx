import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorNote, Status, when } from '../ui.tsx';

/** A key rotation started from the console (GET/POST /console/api/system/key_rotation). */
interface RotationJob {
  id: string;
  mode: 'rotate' | 'finish';
  status: 'running' | 'finished' | 'failed' | 'interrupted';
  started_by: string;
  started_at: string;
  finished_at: string | null;
  version: number | null;
  tables: Array<{
    table: string;
    total: number;
    reencrypted: number;
    failed: number;
    remaining: number | null;
  }>;
  failed_rows: Array<{ table: string; id: string; code: string; message: string }>;
  error: string | null;
}

const TABLE_NAMES: Record<string, string> = {
  linked_accounts: 'Linked accounts',
  integrations: 'Integration client secrets',
  webhook_endpoints: 'Webhook signing secrets',
};
const tableName = (table: string) => TABLE_NAMES[table] ?? table;
/** Often enough for a bar to move smoothly, rare enough to cost the server nothing. */
const POLL_MS = 400;

/**
 * Rotate key / Finish rotation, with the running job's progress per table and then its result. The
 * job runs on the server, so it carries on if this page is left; opening System again shows it.
 */
export function KeyRotationPanel({
  currentVersion,
  complete,
  onEnded,
}: {
  currentVersion: number | null;
  complete: boolean;
  /** The key ring changed: the view reloads its status. */
  onEnded: () => void;
}) {
  const [job, setJob] = useState<RotationJob | null>();
  const [error, setError] = useState<unknown>();
  const [starting, setStarting] = useState(false);
  /** Bumped after a failed poll, to try again. */
  const [retry, setRetry] = useState(0);
  const dialog = useRef<HTMLDialogElement>(null);
  const progressHeading = useRef<HTMLHeadingElement>(null);
  const moveFocus = useRef(false);
  const running = job?.status === 'running';

  // Watches the job while it runs: on first load (one may be running already) and after a start.
  useEffect(() => {
    if (job !== undefined && !running) return;
    let stopped = false;
    const timer = setTimeout(
      async () => {
        try {
          const res = await api<{ job: RotationJob | null }>('GET', 'system/key_rotation');
          if (stopped) return;
          setError(undefined);
          if (running && res.job?.status !== 'running') onEnded();
          setJob(res.job);
        } catch (err) {
          if (stopped) return;
          setError(err);
          // Keep the last known progress and try again: the job itself runs on regardless.
          if (job === undefined) setJob(null);
          else setRetry((n) => n + 1);
        }
      },
      job === undefined ? 0 : POLL_MS,
    );
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [job, running, onEnded, retry]);

  useEffect(() => {
    if (running && moveFocus.current) {
      moveFocus.current = false;
      progressHeading.current?.focus();
    }
  }, [running]);

  const start = async (mode: RotationJob['mode']) => {
    setStarting(true);
    setError(undefined);
    try {
      const started = await api<RotationJob>('POST', 'system/key_rotation', { mode });
      moveFocus.current = true;
      setJob(started);
    } catch (err) {
      setError(err);
      // Someone else's rotation may be running: show it.
      setJob(undefined);
    } finally {
      setStarting(false);
    }
  };

  const busy = starting || running;
  return (
    <section aria-labelledby="rotation-title">
      <h3 id="rotation-title">Key rotation</h3>
      <p class="hint" style={{ marginBottom: '10px' }}>
        Rotating adds a new key version and re-encrypts every stored secret with it, in small batches while
        Plugboard keeps serving. Finishing re-encrypts what is still under older keys. (The same as{' '}
        <code>npx plugboard rotate-key [--finish]</code>.)
      </p>
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={busy}
          onClick={() => {
            const d = dialog.current;
            if (!d) return;
            d.returnValue = '';
            d.showModal();
          }}
        >
          Rotate key
        </button>
        {!complete && (
          <button type="button" disabled={busy} onClick={() => start('finish')}>
            Finish rotation
          </button>
        )}
        {busy && <span class="hint">A rotation is running; these buttons come back when it ends.</span>}
      </div>
      <ErrorNote error={error} />
      <dialog
        ref={dialog}
        aria-labelledby="rotate-confirm-title"
        aria-describedby="rotate-confirm-text"
        style={{
          maxWidth: '34rem',
          background: 'var(--pb-bg)',
          color: 'var(--pb-fg)',
          border: '1px solid var(--pb-border)',
          borderRadius: 'var(--pb-radius)',
        }}
        onClose={() => {
          if (dialog.current?.returnValue === 'rotate') void start('rotate');
        }}
      >
        <h2 id="rotate-confirm-title">Rotate the encryption key?</h2>
        <div id="rotate-confirm-text">
          <p>
            Plugboard adds key version {currentVersion === null ? 'N+1' : currentVersion + 1} and re-encrypts
            every account credential, integration client secret and webhook signing secret with it.
          </p>
          <p>
            Older keys stay in the ring, so nothing becomes unreadable. Other Plugboard processes start using
            the new key within 30 seconds; what they save meanwhile is left for Finish rotation.
          </p>
        </div>
        <form method="dialog" class="actions">
          <button type="submit" class="primary" value="rotate" autofocus>
            Rotate now
          </button>
          <button type="submit" value="cancel">
            Cancel
          </button>
        </form>
      </dialog>
      {job && (
        <section class="card" aria-labelledby="rotation-job-title">
          <h3 id="rotation-job-title" tabIndex={-1} ref={progressHeading}>
            {running
              ? `${job.mode === 'rotate' ? 'Rotating' : 'Finishing the rotation'}…`
              : `Last ${job.mode === 'rotate' ? 'rotation' : 'finish run'}`}{' '}
            {/* "succeeded" reads as done and well; a finished run with unreadable rows stays amber. */}
            <Status
              value={job.status === 'finished' && job.failed_rows.length === 0 ? 'succeeded' : job.status}
            />
          </h3>
          <p class="hint">
            Started by {job.started_by} at {when(job.started_at)}
            {job.finished_at && `, ended at ${when(job.finished_at)}`}.
          </p>
          <JobProgress job={job} />
          <div role="status">{!running && <JobResult job={job} />}</div>
        </section>
      )}
    </section>
  );
}

function JobProgress({ job }: { job: RotationJob }) {
  if (job.tables.length === 0)
    return <p>{job.status === 'running' ? 'Preparing…' : 'No secrets were counted.'}</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Secrets in</th>
            <th>Re-encrypted</th>
            <th>Progress</th>
          </tr>
        </thead>
        <tbody>
          {job.tables.map((t) => (
            <tr key={t.table}>
              <td>{tableName(t.table)}</td>
              <td>
                {t.reencrypted} of {t.total}
                {t.failed > 0 && `, ${t.failed} failed`}
              </td>
              <td>
                <progress
                  max={Math.max(t.total, 1)}
                  value={t.total === 0 ? 1 : t.reencrypted + t.failed}
                  aria-label={`${tableName(t.table)} re-encrypted`}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobResult({ job }: { job: RotationJob }) {
  const reencrypted = job.tables.reduce((n, t) => n + t.reencrypted, 0);
  // Rows that failed also stay under their old key; the rest were written or locked meanwhile.
  const stragglers = Math.max(
    0,
    job.tables.reduce((n, t) => n + (t.remaining ?? 0), 0) - job.failed_rows.length,
  );
  return (
    <>
      {job.status === 'finished' ? (
        <p>
          Rotation finished: key version <strong>{job.version}</strong> is current; {reencrypted} secret
          {reencrypted === 1 ? '' : 's'} re-encrypted.
        </p>
      ) : (
        <div class="error">{job.error}</div>
      )}
      {stragglers > 0 && (
        <p>
          {stragglers} secret{stragglers === 1 ? ' was' : 's were'} saved meanwhile by a process that had not
          picked up the new key yet, or busy at the time, and stay under an older key (still readable). Press
          Finish rotation in a minute.
        </p>
      )}
      {job.failed_rows.length > 0 && (
        <>
          <p>
            {job.failed_rows.length === 1 ? 'This secret' : `These ${job.failed_rows.length} secrets`} could
            not be decrypted and {job.failed_rows.length === 1 ? 'was' : 'were'} left as{' '}
            {job.failed_rows.length === 1 ? 'it is' : 'they are'}: reconnect the account or enter the secret
            again.
          </p>
          <ul>
            {job.failed_rows.map((f) => (
              <li key={`${f.table}:${f.id}`}>
                {tableName(f.table)} <code>{f.id}</code>: {f.message}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
