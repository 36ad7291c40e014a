import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { backends } from './support/backends.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

for (const backend of backends()) {
  describe(`GET /accounts keyset cursor (${backend})`, () => {
    let server: TestServer;
    let key: string;

    before(async () => {
      server = await startTestServer(backend);
      const project = await server.newProject();
      key = project.api_key;
      // 25 accounts: groups of five share a created_at to the microsecond (the id breaks the tie), and
      // the times carry microseconds, which a cursor rounded to milliseconds would skip or repeat.
      await sql`
        insert into linked_accounts
          (id, organization_id, project_id, provider, origin_owner_id, origin_owner_name, status, created_at, updated_at)
        select 'acc_' || md5(i::text), ${project.organization_id}::bigint, ${project.project_id}::text, 'attio',
          'owner', 'Owner', 'active', t.at, t.at
        from generate_series(1, 25) as i,
          lateral (select timestamptz '2026-01-01 00:00:00.000001+00' + make_interval(secs => (i / 5) * 0.000333) as at) as t
      `.execute(server.database.db);
    });
    after(() => server.close());

    test('cursor pages read every account once, in the order page/page_size gives', async () => {
      const byPage: string[] = [];
      for (let page = 1; page <= 3; page++) {
        const res = await call(server, 'GET', `/accounts?page=${page}&page_size=10`, { key });
        assert.equal(res.status, 200);
        assert.ok(Array.isArray(res.body), 'still a bare JSON array');
        byPage.push(...res.body.map((a: { id: string }) => a.id));
      }
      assert.equal(byPage.length, 25);

      const byCursor: string[] = [];
      let url = '/accounts?page_size=10';
      const links: string[] = [];
      for (let i = 0; i < 5 && url; i++) {
        const res = await call(server, 'GET', url, { key });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        byCursor.push(...res.body.map((a: { id: string }) => a.id));
        const next = res.headers.get('x-next-cursor');
        const link = res.headers.get('link');
        if (next) {
          assert.equal(link, `<${server.url}/accounts?page_size=10&cursor=${next}>; rel="next"`);
          links.push(link!);
        } else assert.equal(link, null);
        url = next ? `/accounts?page_size=10&cursor=${next}` : '';
      }
      assert.deepEqual(byCursor, byPage);
      assert.equal(links.length, 2, 'full pages announce a next page; the short last one does not');
    });

    test('the first page of page/page_size already carries the cursor of the second', async () => {
      const first = await call(server, 'GET', '/accounts?page=1&page_size=10', { key });
      const next = first.headers.get('x-next-cursor');
      assert.ok(next);
      const second = await call(server, 'GET', `/accounts?page=2&page_size=10`, { key });
      const viaCursor = await call(server, 'GET', `/accounts?page_size=10&cursor=${next}`, { key });
      assert.deepEqual(viaCursor.body, second.body);
    });

    test('a cursor that this server did not give out is a 400 that says what to do', async () => {
      const forged = Buffer.from('["not a time","x"]').toString('base64url');
      for (const cursor of [forged, 'abc', 'a%2Fb']) {
        const res = await call(server, 'GET', `/accounts?cursor=${cursor}`, { key });
        assert.equal(res.status, 400, `${cursor}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.message, /cursor/);
      }
    });
  });
}
