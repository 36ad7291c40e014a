import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CATEGORIES } from '../src/schemas/common.ts';
import { backends } from './support/backends.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

for (const backend of backends()) {
  describe(`connect sessions (${backend})`, () => {
    let server: TestServer;
    let key: string;
    let keyB: string;
    before(async () => {
      server = await startTestServer(backend, { PLUGBOARD_PUBLIC_URL: 'https://connect.example.test/base/' });
      key = (await server.newProject('A')).api_key;
      keyB = (await server.newProject('B')).api_key;
    });
    after(() => server.close());

    const create = (body: Record<string, unknown>, k = key) =>
      call(server, 'POST', '/connect_sessions', {
        key: k,
        body: { origin_owner_id: 'cust-1', origin_owner_name: 'Acme', ...body },
      });
    const authenticate = (token: string, k = key) =>
      call(server, 'POST', '/connect_sessions/authenticate', { key: k, body: { token } });

    test('every field round-trips from create to authenticate', async () => {
      const body = {
        origin_owner_id: 'cust-42',
        origin_owner_name: 'Acme Inc',
        origin_username: 'ada@acme.test',
        categories: ['hris', 'ats', 'hris'],
        provider: 'bamboohr',
        provider_version: '1.0.0',
        label: 'Main HR',
        metadata: { plan: 'gold', nested: { n: [1, 2, { x: null }] } },
        type: 'test',
        multiple: true,
        expires_in: 600,
      };
      const created = await call(server, 'POST', '/connect_sessions', { key, body });
      assert.equal(created.status, 201);
      const s = created.body;
      assert.equal(typeof s.id, 'number');
      assert.equal(typeof s.organization_id, 'number');
      assert.match(s.project_id, /^proj_/);
      assert.match(s.token, /^pbcs_[A-Za-z0-9_-]{43}$/);
      assert.equal(
        s.auth_link_url,
        `https://connect.example.test/base/embedded/integrations?token=${s.token}`,
      );
      assert.match(s.created_at, ISO_WITH_OFFSET);
      assert.equal(typeof s.external_trigger_token, 'string');
      assert.deepEqual(s.categories, ['hris', 'ats'], 'categories are de-duplicated, order kept');
      const authed = await authenticate(s.token);
      assert.equal(authed.status, 201);
      const { token: _t, auth_link_url: _a, ...session } = s;
      assert.deepEqual(authed.body, { ...session, latest_connection_attempt: null });
      assert.deepEqual(authed.body, {
        id: s.id,
        organization_id: s.organization_id,
        project_id: s.project_id,
        origin_owner_id: 'cust-42',
        origin_owner_name: 'Acme Inc',
        origin_username: 'ada@acme.test',
        account_id: null,
        categories: ['hris', 'ats'],
        provider: 'bamboohr',
        integration_id: null,
        label: 'Main HR',
        metadata: body.metadata,
        type: 'test',
        external_trigger_token: s.external_trigger_token,
        allowed_origins: null,
        created_at: s.created_at,
        latest_connection_attempt: null,
      });
      const row = await server.database.db
        .selectFrom('connect_sessions')
        .selectAll()
        .where('id', '=', s.id)
        .executeTakeFirstOrThrow();
      assert.equal(Math.round((row.expires_at.getTime() - row.created_at.getTime()) / 1000), 600);
      assert.equal(row.multiple, true);
      assert.equal(row.provider_version, '1.0.0');
    });

    test('defaults, and null accepted for every nullable field', async () => {
      const created = await create({
        origin_username: null,
        categories: null,
        provider: null,
        provider_version: null,
        integration_id: null,
        account_id: null,
        label: null,
        metadata: null,
        type: null,
        multiple: null,
        expires_in: null,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.type, 'production');
      assert.equal(created.body.categories, null);
      assert.equal(created.body.metadata, null);
      const row = await server.database.db
        .selectFrom('connect_sessions')
        .selectAll()
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      assert.equal(Math.round((row.expires_at.getTime() - row.created_at.getTime()) / 1000), 1800);
      assert.equal(row.multiple, false);
      const other = await create({});
      assert.notEqual(other.body.external_trigger_token, created.body.external_trigger_token);
    });

    test('documented enum spellings are accepted and emitted in wire form', async () => {
      const aliases: Record<string, string> = {
        hrisLegacy: 'hris-legacy',
        HRIS_LEGACY: 'hris-legacy',
        'HRIS-LEGACY': 'hris-legacy',
        stackOne: 'stackone',
        STACKONE: 'stackone',
        Ats: 'ats',
        CRM: 'crm',
      };
      for (const c of CATEGORIES) aliases[c] = c;
      for (const [input, wire] of Object.entries(aliases)) {
        const res = await create({ categories: [input] });
        assert.equal(res.status, 201, input);
        assert.deepEqual(res.body.categories, [wire], input);
      }
      for (const [input, wire] of [
        ['PRODUCTION', 'production'],
        ['TEST', 'test'],
        ['Production', 'production'],
        ['test', 'test'],
      ]) {
        const res = await create({ type: input });
        assert.equal(res.body.type, wire, input);
      }
      const badCategory = await create({ categories: ['hris', 'payroll'] });
      assert.equal(badCategory.status, 400);
      assert.ok(
        badCategory.body.errors.some((e: string) => e.startsWith('body.categories.1:')),
        JSON.stringify(badCategory.body),
      );
      const badType = await create({ type: 'staging' });
      assert.equal(badType.status, 400);
      assert.ok(badType.body.errors.some((e: string) => e.startsWith('body.type:')));
    });

    test('an expired token is refused like an unknown one', async () => {
      const s = await create({ expires_in: 60 });
      assert.equal((await authenticate(s.body.token)).status, 201);
      await server.database.db
        .updateTable('connect_sessions')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', s.body.id)
        .execute();
      const expired = await authenticate(s.body.token);
      const unknown = await authenticate('pbcs_unknown');
      assert.equal(expired.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(expired.body.message, unknown.body.message);
      // expires_in: 1 really expires (a correctness wait, no timing assertion).
      const short = await create({ expires_in: 1 });
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await authenticate(short.body.token)).status, 401);
    });

    test('revocation makes the token unusable at once; revoking is idempotent', async () => {
      const s = await create({});
      const del = await call(server, 'DELETE', `/connect_sessions/${s.body.id}`, { key });
      assert.equal(del.status, 204);
      assert.equal((await authenticate(s.body.token)).status, 401);
      assert.equal((await call(server, 'DELETE', `/connect_sessions/${s.body.id}`, { key })).status, 204);
      assert.equal((await call(server, 'DELETE', '/connect_sessions/999999999', { key })).status, 404);
      assert.equal((await call(server, 'DELETE', '/connect_sessions/abc', { key })).status, 400);
    });

    test("tenant isolation: project B can neither authenticate nor revoke A's session", async () => {
      const s = await create({});
      const stolen = await authenticate(s.body.token, keyB);
      const unknown = await authenticate('pbcs_nothing', keyB);
      assert.equal(stolen.status, 401);
      assert.equal(stolen.body.message, unknown.body.message);
      const revokeB = await call(server, 'DELETE', `/connect_sessions/${s.body.id}`, { key: keyB });
      const revokeUnknown = await call(server, 'DELETE', '/connect_sessions/987654321', { key: keyB });
      assert.equal(revokeB.status, 404);
      assert.equal(
        revokeB.body.message.replace(String(s.body.id), 'N'),
        revokeUnknown.body.message.replace('987654321', 'N'),
      );
      assert.equal((await authenticate(s.body.token)).status, 201, "A's token still works");
    });

    test('50 concurrent creates yield 50 distinct ids and tokens', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => create({ origin_owner_id: `c-${i}` })),
      );
      assert.ok(results.every((r) => r.status === 201));
      assert.equal(new Set(results.map((r) => r.body.id)).size, 50);
      assert.equal(new Set(results.map((r) => r.body.token)).size, 50);
      assert.equal(new Set(results.map((r) => r.body.external_trigger_token)).size, 50);
    });

    test('tokens are stored only as hashes', async () => {
      const s = await create({});
      const rows = await server.database.db.selectFrom('connect_sessions').selectAll().execute();
      const keys = await server.database.db.selectFrom('api_keys').selectAll().execute();
      const dump = JSON.stringify({ rows, keys });
      assert.ok(!dump.includes(s.body.token));
      assert.ok(!dump.includes(key));
    });

    test('hostile strings round-trip unchanged; unstorable ones are refused', async () => {
      const hostile = [
        `<script>alert(1)</script>`,
        `'; DROP TABLE connect_sessions; --`,
        '😀 עברית ‮ {{x}} ${x}',
        '\\u0000',
      ];
      for (const value of hostile) {
        const res = await create({ origin_owner_name: value, label: value, metadata: { [value]: value } });
        assert.equal(res.status, 201, value);
        const authed = await authenticate(res.body.token);
        assert.equal(authed.body.origin_owner_name, value);
        assert.equal(authed.body.label, value);
        assert.deepEqual(authed.body.metadata, { [value]: value });
      }
      for (const body of [
        { label: 'a\u0000b' },
        { origin_owner_id: '\ud800' },
        { metadata: { k: 'x\u0000' } },
        { metadata: { ['\u0000']: 1 } },
        { label: 'x'.repeat(256) },
        { origin_owner_id: '   ' },
      ]) {
        const res = await create(body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.ok(Array.isArray(res.body.errors));
      }
    });
  });
}
