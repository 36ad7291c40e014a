/**
 * Background token refresh at scale: N OAuth accounts whose refresh points (expiry minus the 5-minute
 * margin) are spread evenly over a window, refreshed by `plugboard worker` processes against a stand-in
 * authorization server on 127.0.0.1 that answers in ~50 ms and counts refreshes per token.
 *
 *   BENCH_ACCOUNTS=10000 BENCH_WINDOW_SECONDS=180 BENCH_PROCESSES=2 \
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/refresh.ts
 *
 * Without DATABASE_URL it runs on PGlite (one process: PGlite is single-process). Lag of a token = when
 * the stand-in received its refresh minus its refresh point (negative = refreshed early, inside the
 * jitter window, counted as 0). The run is bounded: it stops at window + BENCH_DRAIN_SECONDS.
 *
 * Accounts are written with the import service's row shape and encryption, in batches of 1,000 rows, so
 * the setup of 100,000 accounts takes seconds; POST /accounts itself is measured by BENCH_IMPORT_SAMPLE
 * lines through the import (plugboard accounts import's code path), reported as lines per second.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { importAccountLines } from '../packages/server/src/cli/account-import.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { loadCatalogue } from '../packages/server/src/connectors/catalogue.ts';
import { createAppContext } from '../packages/server/src/context.ts';
import { accountAad, openVault } from '../packages/server/src/crypto/vault.ts';
import { migrateToLatest, openDatabase } from '../packages/server/src/db/database.ts';
import { createIntegration } from '../packages/server/src/services/integrations.ts';
import { createProject, projectContext } from '../packages/server/src/services/tenancy.ts';
import { REFRESH_MARGIN_MS } from '../packages/server/src/services/token-refresh.ts';
import { startTokenServer } from '../packages/server/test/support/token-server.ts';
import { envNumber, log } from './support.ts';

const accounts = envNumber('BENCH_ACCOUNTS', 10_000, 10, 1_000_000);
const windowSeconds = envNumber('BENCH_WINDOW_SECONDS', 180, 10, 3600);
const drainSeconds = envNumber('BENCH_DRAIN_SECONDS', 120, 10, 3600);
const processes = envNumber('BENCH_PROCESSES', 2, 1, 16);
const concurrency = envNumber('BENCH_CONCURRENCY', 16, 1, 256);
const latencyMs = envNumber('BENCH_TOKEN_LATENCY_MS', 50, 0, 5000);
const importSample = envNumber('BENCH_IMPORT_SAMPLE', 2000, 0, 100_000);
const adminUrl = process.env.DATABASE_URL;
const bin = path.resolve(import.meta.dirname, '../packages/server/bin/plugboard.js');

async function adminQuery(text: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function main() {
  const started = Date.now();
  // Tokens from the stand-in live longer than the run, so each account is due exactly once.
  const tokens = await startTokenServer({ delayMs: latencyMs, expiresIn: 24 * 3600 });
  const masterKey = randomBytes(32).toString('hex');
  const dbName = `plugboard_bench_${randomBytes(4).toString('hex')}`;
  const dataDir = adminUrl ? undefined : await mkdtemp(path.join(os.tmpdir(), 'plugboard-bench-refresh-'));
  let databaseUrl: string | undefined;
  if (adminUrl) {
    await adminQuery(`create database ${dbName}`);
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
  }
  const env = {
    LOG_LEVEL: 'warn',
    PLUGBOARD_MASTER_KEY: masterKey,
    PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback',
    PLUGBOARD_REFRESH_CONCURRENCY: String(concurrency),
    PLUGBOARD_REFRESH_POLL_MS: '500',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { PLUGBOARD_DATA_DIR: dataDir! }),
  };
  const config = loadConfig(env);
  const children: ChildProcess[] = [];
  try {
    const handle = await openDatabase({ databaseUrl, dataDir: dataDir ?? 'memory', poolSize: 8 });
    await migrateToLatest(handle.db);
    const kind = handle.kind;
    const version = (await sql<{ v: string }>`select version() as v`.execute(handle.db)).rows[0]!.v;
    const vault = await openVault(handle.db, Buffer.from(masterKey, 'hex'));
    const catalogue = loadCatalogue();
    const context = createAppContext({ config, db: handle.db, vault, catalogue });
    const created = await createProject(handle.db, { name: 'bench' });
    const project = await projectContext(handle.db, created.project_id);
    const integration = await createIntegration(
      { db: handle.db, vault, catalogue, publicUrl: config.publicUrl, outbound: context.outbound },
      project,
      {
        connector_key: 'hubspot',
        oauth: { client_id: 'bench', client_secret: 'bench' },
        urls: { token_url: `${tokens.url}/token`, authorization_url: `${tokens.url}/authorize` },
      } as never,
    );

    // The import path itself, on a sample: lines per second through importAccount.
    let importRate: number | undefined;
    if (importSample > 0) {
      const lines = Array.from({ length: importSample }, (_, i) =>
        JSON.stringify({
          integration_id: integration.id,
          origin_owner_id: `sample-${i}`,
          origin_owner_name: `Sample ${i}`,
          external_id: `sample-${i}`,
          oauth: {
            access_token: `at-sample-${i}`,
            refresh_token: `rt-sample-${i}`,
            expires_at: new Date(Date.now() + 48 * 3600_000).toISOString(),
          },
        }),
      );
      const t0 = performance.now();
      const summary = await importAccountLines(context, project, lines.values() as never, {
        parallel: kind === 'postgres' ? 16 : 1,
        report: () => {},
      });
      importRate = importSample / ((performance.now() - t0) / 1000);
      if (summary.created !== importSample) throw new Error(`sample import: ${JSON.stringify(summary)}`);
      await handle.db.deleteFrom('linked_accounts').execute();
      log(`import path: ${importRate.toFixed(0)} lines/s (${importSample} lines, ${kind})`);
    }

    // The bulk of the accounts: same row shape and encryption as the import, far from expiry at first.
    const t1 = performance.now();
    const far = new Date(Date.now() + 48 * 3600_000);
    for (let start = 0; start < accounts; start += 1000) {
      const rows = [];
      for (let i = start; i < Math.min(accounts, start + 1000); i++) {
        const id = `acc_bench${String(i).padStart(8, '0')}`;
        const encrypted = vault.encryptJson(
          {
            access_token: `at-${i}`,
            refresh_token: `rt-${i}`,
            token_type: 'Bearer',
            expires_at: far.toISOString(),
          },
          accountAad(project.projectId, id),
        );
        rows.push({
          id,
          organization_id: project.organizationId,
          project_id: project.projectId,
          integration_id: integration.id,
          provider: 'hubspot',
          origin_owner_id: `owner-${i}`,
          origin_owner_name: `Owner ${i}`,
          external_id: `bench-${i}`,
          status: 'active',
          credentials_enc: encrypted.ciphertext,
          key_version: encrypted.keyVersion,
          token_expires_at: far,
          updated_at: new Date(),
        });
      }
      await handle.db.insertInto('linked_accounts').values(rows).execute();
    }
    log(`${accounts} accounts written in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    // Refresh points (expiry − margin) spread evenly over the window, starting a few seconds from now.
    const t0 = Date.now() + 5_000;
    const pointOf = (i: number) => t0 + Math.floor((i * windowSeconds * 1000) / accounts);
    await sql`
      update linked_accounts
      set token_expires_at = to_timestamp(
        (${t0 + REFRESH_MARGIN_MS} + floor(substr(id, 10)::int * ${windowSeconds * 1000}::float8 / ${accounts})) / 1000.0)
      where id like 'acc_bench%'`.execute(handle.db);
    await sql`analyze linked_accounts`.execute(handle.db);
    await context.outbound.close();
    await handle.close();

    const workers = kind === 'postgres' ? processes : 1;
    for (let p = 0; p < workers; p++) {
      const child = spawn(process.execPath, [bin, 'worker'], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      children.push(child);
    }
    log(`${workers} worker process(es), concurrency ${concurrency} each, window ${windowSeconds} s`);
    const deadline = t0 + windowSeconds * 1000 + drainSeconds * 1000;
    const refreshed = () => {
      let n = 0;
      for (let i = 0; i < accounts; i++) if (tokens.refreshes.has(`rt-${i}`)) n++;
      return n;
    };
    let last = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5000));
      const n = refreshed();
      if (n !== last)
        log(`${n}/${accounts} refreshed, ${((Date.now() - t0) / 1000).toFixed(0)} s into the window`);
      last = n;
      if (n === accounts && Date.now() > t0 + windowSeconds * 1000) break;
    }
    // Some more time for any duplicate refresh to show up.
    await new Promise((r) => setTimeout(r, 3000));
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );

    const firstAt = new Map<string, number>();
    for (const r of tokens.requests) if (!firstAt.has(r.refreshToken)) firstAt.set(r.refreshToken, r.at);
    const lags: number[] = [];
    let early = 0;
    let missing = 0;
    let twice = 0;
    for (let i = 0; i < accounts; i++) {
      const count = tokens.refreshes.get(`rt-${i}`) ?? 0;
      if (count === 0) missing++;
      if (count > 1) twice++;
      const at = firstAt.get(`rt-${i}`);
      if (at === undefined) continue;
      const lag = at - pointOf(i);
      if (lag < 0) early++;
      lags.push(Math.max(0, lag));
    }
    lags.sort((a, b) => a - b);
    const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? Number.NaN;
    const result = {
      database: version.split(' on ')[0],
      backend: kind,
      processes: workers,
      concurrency,
      accounts,
      windowSeconds,
      compression: `${(3600 / windowSeconds).toFixed(1)}x (an hour's refreshes in ${windowSeconds} s)`,
      tokenLatencyMs: latencyMs,
      refreshedOnce: accounts - missing - twice,
      notRefreshed: missing,
      refreshedMoreThanOnce: twice,
      refreshedEarly: early,
      lagP50s: Number((q(0.5) / 1000).toFixed(2)),
      lagP99s: Number((q(0.99) / 1000).toFixed(2)),
      lagMaxs: Number(((lags.at(-1) ?? Number.NaN) / 1000).toFixed(2)),
      importLinesPerSecond: importRate === undefined ? null : Math.round(importRate),
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(1))),
      runSeconds: Math.round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await tokens.close();
    if (adminUrl) await adminQuery(`drop database if exists ${dbName} with (force)`);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
