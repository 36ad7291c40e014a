import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAppContext } from '../src/context.ts';
import { DomainError } from '../src/errors.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { refreshTokens } from '../src/services/oauth-client.ts';
import {
  claimDueRefreshes,
  countDueRefreshes,
  providerPauseMs,
  type RefreshWorker,
  startRefreshWorker,
} from '../src/services/refresh-worker.ts';
import { REFRESH_MARGIN_MS } from '../src/services/token-refresh.ts';
import { backends } from './support/backends.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';
import { startTokenServer, type TokenServer } from './support/token-server.ts';

/** Polls until `done` holds; the deadline only bounds a broken run, it decides nothing about timing. */
async function until(done: () => boolean | Promise<boolean>, what: string, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const backend of backends()) {
  describe(`background token refresh (${backend})`, () => {
    let server: TestServer;
    let tokens: TokenServer;
    let key: string;
    let config: string;
    let context: ReturnType<typeof createAppContext>;

    before(async () => {
      tokens = await startTokenServer({ delayMs: 20 });
      server = await startTestServer(backend, { ...LOOPBACK_PROVIDERS });
      key = (await server.newProject()).api_key;
      const res = await call(server, 'POST', '/auth_configs', {
        key,
        body: {
          connector_key: 'hubspot',
          oauth: { client_id: 'client', client_secret: 'secret' },
          urls: {
            authorization_url: `${tokens.url}/authorize`,
            token_url: `${tokens.url}/token`,
            api_base_url: tokens.url,
          },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      config = res.body.id;
      context = createAppContext({
        config: server.config,
        db: server.database.db,
        vault: server.vault,
        catalogue: server.catalogue,
      });
    });
    after(async () => {
      await context.outbound.close();
      await server.close();
      await tokens.close();
    });

    async function importAccount(refreshToken: string, expiresInMs: number): Promise<string> {
      const res = await call(server, 'POST', '/accounts', {
        key,
        body: {
          integration_id: config,
          origin_owner_id: refreshToken,
          origin_owner_name: refreshToken,
          oauth: {
            access_token: `at-${refreshToken}`,
            refresh_token: refreshToken,
            expires_at: new Date(Date.now() + expiresInMs).toISOString(),
          },
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id;
    }

    const workerDeps = () => ({
      db: server.database.db,
      vault: server.vault,
      catalogue: server.catalogue,
      outbound: context.outbound,
    });

    test('claims never overlap: concurrent claimers get disjoint accounts, and a lease hides them', async () => {
      const ids = await Promise.all(
        Array.from({ length: 12 }, (_, i) => importAccount(`claim-${i}`, 60_000)),
      );
      const claims = await Promise.all(
        Array.from({ length: 4 }, () => claimDueRefreshes(server.database.db, 5, 60_000)),
      );
      const claimed = claims.flat().map((r) => r.id);
      assert.equal(new Set(claimed).size, claimed.length, 'no account claimed twice');
      assert.deepEqual([...claimed].sort(), [...ids].sort(), 'every due account claimed once');
      assert.deepEqual(
        await claimDueRefreshes(server.database.db, 50, 60_000),
        [],
        'leased accounts are hidden',
      );
      // Leases that ran out (a crashed worker) make the accounts claimable again.
      await server.database.db
        .updateTable('linked_accounts')
        .set({
          refresh_claimed_until: new Date(Date.now() - 1000),
          token_expires_at: new Date(Date.now() + 7200_000),
        })
        .where('id', 'in', ids)
        .execute();
      await server.database.db
        .updateTable('linked_accounts')
        .set({
          refresh_claimed_until: new Date(Date.now() - 1000),
          token_expires_at: new Date(Date.now() + 1000),
        })
        .where('id', '=', ids[0]!)
        .execute();
      assert.deepEqual(
        (await claimDueRefreshes(server.database.db, 50, 60_000)).map((r) => r.id),
        [ids[0]],
        'a token far from expiry is not due; an expired claim is taken over',
      );
      await server.database.db.deleteFrom('linked_accounts').where('id', 'in', ids).execute();
    });

    test('two workers refresh every due token exactly once and leave the others alone', async () => {
      const due = await Promise.all(Array.from({ length: 40 }, (_, i) => importAccount(`due-${i}`, 30_000)));
      // Past the margin plus the whole jitter window: not due yet.
      const later = await Promise.all(
        Array.from({ length: 5 }, (_, i) => importAccount(`later-${i}`, REFRESH_MARGIN_MS + 3 * 60_000)),
      );
      assert.equal(await countDueRefreshes(server.database.db), 40);
      const metrics = createMetrics(server.database.db);
      const workers: RefreshWorker[] = [1, 2].map(() =>
        startRefreshWorker({
          ...workerDeps(),
          config: { concurrency: 4, pollMs: 50, leaseMs: 60_000 },
          metrics,
        }),
      );
      try {
        await until(() => due.every((_, i) => tokens.refreshes.has(`due-${i}`)), 'all due tokens refreshed');
        await until(async () => (await countDueRefreshes(server.database.db)) === 0, 'nothing due');
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
      for (let i = 0; i < 40; i++)
        assert.equal(tokens.refreshes.get(`due-${i}`), 1, `due-${i} refreshed once`);
      for (let i = 0; i < 5; i++) assert.equal(tokens.refreshes.get(`later-${i}`), undefined);
      const rows = await server.database.db
        .selectFrom('linked_accounts')
        .select(['id', 'token_expires_at', 'status'])
        .where('id', 'in', [...due, ...later])
        .execute();
      for (const row of rows) {
        assert.equal(row.status, 'active');
        if (due.includes(row.id)) {
          assert.ok(
            row.token_expires_at!.getTime() > Date.now() + 3000_000,
            'a new hour-long token is stored',
          );
        }
      }
      const text = await metrics.registry.metrics();
      assert.match(text, /plugboard_token_refreshes_total\{outcome="refreshed"\} 40/);
      assert.match(text, /plugboard_token_refresh_lag_seconds_count 40/);
      assert.match(text, /plugboard_token_refreshes_due 0/);
      const creds = await call(server, 'GET', `/accounts/${due[0]}/credentials`, { key });
      assert.notEqual(creds.body.credentials.access_token, 'at-due-0', 'reads get the refreshed token');
      await server.database.db
        .deleteFrom('linked_accounts')
        .where('id', 'in', [...due, ...later])
        .execute();
    });

    test('a token endpoint that rate-limits pauses its provider for Retry-After; the account backs off, stays active', async () => {
      tokens.answer = () => ({
        status: 429,
        body: { error: 'rate_limited' },
        headers: { 'retry-after': '120' },
      });
      try {
        const failure = await refreshTokens(
          {
            method: { type: 'oauth2', grant_type: 'authorization_code' } as never,
            tokenUrl: `${tokens.url}/token`,
            clientId: 'client',
            clientSecret: 'secret',
            outbound: context.outbound,
          },
          { access_token: 'a', refresh_token: 'r' },
        ).then(
          () => assert.fail('a 429 is not a token'),
          (err: unknown) => err,
        );
        assert.ok(failure instanceof DomainError);
        assert.equal(providerPauseMs(failure, 1), 120_000, 'Retry-After decides the pause');
        assert.equal(
          providerPauseMs(new DomainError('validation_failed', 'invalid_grant'), 1),
          undefined,
          'one account refused says nothing about the provider',
        );
        assert.ok((providerPauseMs(new DomainError('provider_unavailable', 'down'), 3) ?? 0) >= 15_000);

        const ids = await Promise.all(
          Array.from({ length: 5 }, (_, i) => importAccount(`limited-${i}`, 30_000)),
        );
        const metrics = createMetrics(server.database.db);
        const worker = startRefreshWorker({
          ...workerDeps(),
          config: { concurrency: 1, pollMs: 20, leaseMs: 60_000 },
          metrics,
        });
        const limitedCalls = () =>
          tokens.requests.filter((r) => r.refreshToken.startsWith('limited-')).length;
        try {
          await until(() => limitedCalls() >= 1, 'the first refresh try');
          await until(
            async () =>
              /plugboard_token_refreshes_total\{outcome="failed"\} 1/.test(await metrics.registry.metrics()),
            'the failure recorded',
          );
        } finally {
          await worker.stop();
        }
        assert.equal(limitedCalls(), 1, 'one call, then the provider was left alone');
        const stillDue = await claimDueRefreshes(server.database.db, 10, 60_000);
        assert.equal(stillDue.length, 4, 'the other four were due all along, left alone for the pause');
        const failed = await server.database.db
          .selectFrom('linked_accounts')
          .selectAll()
          .where('id', 'in', ids)
          .where('refresh_failures', '>', 0)
          .execute();
        assert.equal(failed.length, 1);
        assert.equal(failed[0]!.status, 'active', 'a rate limit is not a refusal');
        assert.ok(failed[0]!.refresh_retry_at! > new Date(), 'the account waits for its retry time');
        await server.database.db.deleteFrom('linked_accounts').where('id', 'in', ids).execute();
      } finally {
        tokens.answer = undefined;
      }
    });
  });
}
