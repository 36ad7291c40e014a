import { randomBytes } from 'node:crypto';
import { type Insertable, sql } from 'kysely';
import { cachesOf } from '../cache/data-caches.ts';
import type { Catalogue } from '../connectors/catalogue.ts';
import { generateSecret, hashSecret, TOKEN_PREFIX } from '../crypto/tokens.ts';
import { type Db, holdsOneConnection } from '../db/database.ts';
import { groupCommit } from '../db/group-commit.ts';
import type { ConnectSessionRow, Database } from '../db/schema.ts';
import { notFound, unauthorized, validationFailed } from '../errors.ts';
import type { AddressPolicy } from '../outbound/address-policy.ts';
import {
  type ConnectSession,
  type ConnectSessionCreate,
  type ConnectSessionTokenAuthLink,
  DEFAULT_EXPIRES_IN,
} from '../schemas/connect-sessions.ts';
import { recordEvents } from '../webhooks/events.ts';
import { findAccount } from './accounts.ts';
import { actorOf, audit, recordAudits } from './audit.ts';
import { toHubAttempt } from './connection-attempts.ts';
import { findIntegration } from './integrations.ts';
import type { ProjectContext } from './tenancy.ts';
import { acceptableWebhookUrl } from './webhook-endpoints.ts';

/** One message for every token that cannot be used, so callers cannot tell why (unknown, expired…). */
export const INVALID_SESSION_TOKEN =
  'The connect session token is invalid or has expired. Create a new connect session.';

export interface SessionDeps {
  db: Db;
  catalogue: Catalogue;
  /** Public base URL of this Plugboard; the hosted connect page lives below it. */
  publicUrl: string;
  /** Which addresses a session's webhook_url may point at. */
  webhookPolicy: AddressPolicy;
}

/** A session may only point at things that exist in its project; say so now rather than in the hub. */
async function checkReferences(deps: SessionDeps, project: ProjectContext, input: ConnectSessionCreate) {
  if (input.provider && !deps.catalogue.get(input.provider)) {
    throw validationFailed(
      `Unknown provider "${input.provider}". GET /connectors/meta lists the available providers.`,
      [`body.provider: unknown provider "${input.provider}"`],
    );
  }
  if (input.integration_id && !(await findIntegration(deps.db, project.projectId, input.integration_id))) {
    throw notFound(`Auth config ${input.integration_id}`);
  }
  if (input.account_id && !(await findAccount(deps.db, project.projectId, input.account_id))) {
    throw notFound(`Account ${input.account_id}`);
  }
  if (input.webhook_url)
    await acceptableWebhookUrl(input.webhook_url, deps.webhookPolicy, 'body.webhook_url');
}

export async function createConnectSession(
  deps: SessionDeps,
  project: ProjectContext,
  input: ConnectSessionCreate,
): Promise<ConnectSessionTokenAuthLink> {
  await checkReferences(deps, project, input);
  const token = generateSecret(TOKEN_PREFIX.sessionToken);
  const row = await sessionWriter(deps.db)({ project, input, tokenHash: hashSecret(token) });
  return {
    ...toConnectSession(row),
    token,
    auth_link_url: `${deps.publicUrl}/embedded/integrations?token=${encodeURIComponent(token)}`,
  };
}

interface NewSession {
  project: ProjectContext;
  input: ConnectSessionCreate;
  tokenHash: string;
}

/**
 * Sessions created at the same time share a transaction (group commit, see db/group-commit.ts): a
 * batch of 64 costs about as many statements as one session. PGlite runs one transaction at a time;
 * on PostgreSQL PG_WRITERS batches run side by side on the pool (2, 4 and 10 measured alike on
 * bench/data-plane.ts, all well ahead of one transaction per request; 4 leaves most of the default
 * pool of 10 to reads).
 */
const writers = new WeakMap<Db, (session: NewSession) => Promise<ConnectSessionRow>>();
const MAX_BATCH = 64;
const PG_WRITERS = 4;

function sessionWriter(db: Db) {
  let writer = writers.get(db);
  if (!writer) {
    const concurrency = holdsOneConnection(db) ? 1 : PG_WRITERS;
    writer = groupCommit((batch) => writeSessions(db, batch), { maxBatch: MAX_BATCH, concurrency });
    writers.set(db, writer);
  }
  return writer;
}

/** The sessions, their connect_session.created events and audit entries, in one transaction. */
function writeSessions(db: Db, sessions: NewSession[]): Promise<ConnectSessionRow[]> {
  return db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('connect_sessions')
      .values(sessions.map(sessionValues))
      .returningAll()
      .execute();
    // RETURNING promises no order; the token hash is unique.
    const byHash = new Map(inserted.map((row) => [row.token_hash, row]));
    const rows = sessions.map((s) => byHash.get(s.tokenHash)!);
    await recordEvents(
      tx,
      rows.map((row) => ({
        projectId: row.project_id,
        type: 'connect_session.created',
        recordType: 'connect_session',
        recordId: String(row.id),
        data: sessionEventData(row),
        webhookUrl: row.webhook_url,
      })),
    );
    await recordAudits(
      tx,
      sessions.map(({ project }, i) => ({
        projectId: project.projectId,
        actor: actorOf(project),
        entry: {
          action: 'connect_session.created',
          targetType: 'connect_session',
          targetId: String(rows[i]!.id),
          // The trigger token works like a credential: not in the log.
          after: { ...toConnectSession(rows[i]!), external_trigger_token: undefined },
        },
      })),
    );
    return rows;
  });
}

function sessionValues({ project, input, tokenHash }: NewSession): Insertable<Database['connect_sessions']> {
  const expiresIn = input.expires_in ?? DEFAULT_EXPIRES_IN;
  return {
    organization_id: project.organizationId,
    project_id: project.projectId,
    token_hash: tokenHash,
    origin_owner_id: input.origin_owner_id,
    origin_owner_name: input.origin_owner_name,
    origin_username: input.origin_username ?? null,
    categories: input.categories ? JSON.stringify([...new Set(input.categories)]) : null,
    provider: input.provider ?? null,
    provider_version: input.provider_version ?? null,
    integration_id: input.integration_id ?? null,
    account_id: input.account_id ?? null,
    label: input.label ?? null,
    metadata: input.metadata ? JSON.stringify(input.metadata) : null,
    type: input.type ?? 'production',
    multiple: input.multiple ?? false,
    // Shown to the end user in forms of providers that call back into the integrator (webhook triggers).
    external_trigger_token: randomBytes(24).toString('hex'),
    allowed_origins: input.allowed_origins?.length
      ? JSON.stringify([...new Set(input.allowed_origins)])
      : null,
    webhook_url: input.webhook_url ?? null,
    expires_at: sql<Date>`now() + make_interval(secs => ${expiresIn})` as never,
  };
}

/**
 * Looks a session up by its token within the caller's project. Unknown, expired, revoked and other
 * projects' tokens all take the same single indexed query (or cache lookup) and fail the same way.
 * A cached session is served only until its expiry; revoking it removes it from every process's cache.
 */
export async function findUsableSession(
  db: Db,
  projectId: string | undefined,
  token: string,
): Promise<ConnectSessionRow | undefined> {
  const tokenHash = hashSecret(token);
  const caches = cachesOf(db);
  const row = caches
    ? await caches.sessions.load(
        tokenHash,
        () => selectUsableSession(db, tokenHash),
        (found) => found.expires_at.getTime() - Date.now(),
      )
    : await selectUsableSession(db, tokenHash);
  if (!row || row.expires_at.getTime() <= Date.now()) return undefined;
  if (projectId !== undefined && row.project_id !== projectId) return undefined;
  return row;
}

/** A session from the cache only (no lookup), for callers that skip work on a known-good token. */
export function cachedUsableSession(db: Db, token: string): ConnectSessionRow | undefined {
  const row = cachesOf(db)?.sessions.get(hashSecret(token));
  return row && row.expires_at.getTime() > Date.now() ? row : undefined;
}

function selectUsableSession(db: Db, tokenHash: string) {
  return db
    .selectFrom('connect_sessions')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
}

export async function authenticateConnectSession(
  db: Db,
  project: ProjectContext,
  token: string,
): Promise<ConnectSession> {
  const row = await findUsableSession(db, project.projectId, token);
  if (!row) throw unauthorized(INVALID_SESSION_TOKEN);
  const latest = await latestAttempt(db, row.id);
  return { ...toConnectSession(row), latest_connection_attempt: latest ? toHubAttempt(latest) : null };
}

/**
 * Beyond the reference: how the end user's latest try with this session went. Cached per session
 * (every write to a session's attempts announces it); a pending attempt only until it would expire.
 */
async function latestAttempt(db: Db, sessionId: ConnectSessionRow['id']) {
  const read = async () => ({
    attempt: await db
      .selectFrom('connection_attempts')
      .selectAll()
      .where('session_id', '=', sessionId as never)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst(),
  });
  const caches = cachesOf(db);
  const boxed = caches
    ? await caches.latestAttempts.load(String(sessionId), read, ({ attempt }) =>
        attempt?.status === 'pending' ? attempt.expires_at.getTime() - Date.now() : Number.POSITIVE_INFINITY,
      )
    : await read();
  return boxed?.attempt;
}

/** Makes a session's token unusable at once. Idempotent; another project's session is "not found". */
export async function revokeConnectSession(db: Db, project: ProjectContext, id: number): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable('connect_sessions')
      .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` as never })
      .where('id', '=', id as never)
      .where('project_id', '=', project.projectId)
      .returning(['revoked_at', 'token_hash'])
      .executeTakeFirst();
    if (!row) throw notFound(`Connect session ${id}`);
    // At once in this process; other processes hear of it through the table's notice.
    cachesOf(db)?.sessions.delete(row.token_hash);
    await audit(tx, project, {
      action: 'connect_session.revoked',
      targetType: 'connect_session',
      targetId: String(id),
      after: { revoked_at: row.revoked_at?.toISOString() ?? null },
    });
  });
}

/** No token and no secrets: what a webhook receiver needs to tie the session to its customer. */
function sessionEventData(row: ConnectSessionRow): Record<string, unknown> {
  return {
    connect_session_id: Number(row.id),
    origin_owner_id: row.origin_owner_id,
    origin_owner_name: row.origin_owner_name,
    origin_username: row.origin_username,
    provider: row.provider,
    categories: row.categories,
    integration_id: row.integration_id,
    account_id: row.account_id,
    label: row.label,
    expires_at: row.expires_at.toISOString(),
  };
}

export function toConnectSession(row: ConnectSessionRow): ConnectSession {
  return {
    id: Number(row.id),
    organization_id: Number(row.organization_id),
    project_id: row.project_id,
    origin_owner_id: row.origin_owner_id,
    origin_owner_name: row.origin_owner_name,
    origin_username: row.origin_username,
    account_id: row.account_id,
    categories: row.categories as ConnectSession['categories'],
    provider: row.provider,
    integration_id: row.integration_id,
    label: row.label,
    metadata: row.metadata,
    type: row.type as ConnectSession['type'],
    external_trigger_token: row.external_trigger_token,
    allowed_origins: row.allowed_origins,
    created_at: row.created_at.toISOString(),
  };
}
