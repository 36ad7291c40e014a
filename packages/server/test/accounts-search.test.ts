import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { ConsoleClient, operatorWithPassword } from './support/console.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

interface Seed {
  owner: string;
  name: string;
  provider?: string;
  status?: string;
  type?: 'production' | 'test' | null;
}

// Owner ids and names chosen so that a search read as a LIKE pattern (% and _ as wildcards, \ as
// escape) would match rows that a plain substring search must not.
const SEEDS: Seed[] = [
  { owner: 'cust-100', name: 'Acme Corp' },
  { owner: 'cust-101', name: 'ACME Labs', provider: 'hubspot', status: 'error', type: 'test' },
  { owner: 'cust_200', name: 'Globex' },
  { owner: 'custX200', name: 'Initech' },
  { owner: 'cust-300', name: '100% Pure' },
  { owner: 'cust-301', name: '1000 Pure' },
  { owner: 'cust-400', name: 'Back\\slash Ltd' },
  { owner: 'cust-401', name: 'Backslash Ltd' },
  ...Array.from({ length: 12 }, (_, i) => ({ owner: `bulk-${i}`, name: `Bulk customer ${i}` })),
];

const ids = (body: Array<{ origin_owner_id: string }>) => body.map((a) => a.origin_owner_id);

for (const backend of backends()) {
  describe(`GET /accounts?search (${backend})`, () => {
    let server: TestServer;
    let key: string;
    let projectId: string;

    before(async () => {
      server = await startTestServer(backend);
      const project = await server.newProject();
      const other = await server.newProject('Other project');
      key = project.api_key;
      projectId = project.project_id;
      const start = Date.parse('2026-01-01T00:00:00Z');
      const row = (seed: Seed, i: number, owner: typeof project) => ({
        id: `acc_${owner.project_id.slice(-6)}_${String(i).padStart(3, '0')}`,
        organization_id: owner.organization_id,
        project_id: owner.project_id,
        provider: seed.provider ?? 'attio',
        origin_owner_id: seed.owner,
        origin_owner_name: seed.name,
        status: seed.status ?? 'active',
        type: seed.type === undefined ? 'production' : seed.type,
        created_at: new Date(start + i * 1000),
        updated_at: new Date(start + i * 1000),
      });
      await server.database.db
        .insertInto('linked_accounts')
        .values([
          ...SEEDS.map((seed, i) => row(seed, i, project)),
          // Another project's "Acme" must never show up.
          row({ owner: 'cust-100', name: 'Acme Elsewhere' }, 0, other),
        ])
        .execute();
    });
    after(() => server.close());

    const search = async (query: string) => {
      const res = await call(server, 'GET', `/accounts?${query}`, { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return ids(res.body);
    };

    test('matches a part of the owner id or the owner name, ignoring case', async () => {
      assert.deepEqual(await search('search=acme'), ['cust-100', 'cust-101']);
      assert.deepEqual(await search('search=LABS'), ['cust-101']);
      assert.deepEqual(await search('search=st-10'), ['cust-100', 'cust-101']);
      assert.deepEqual(await search('search=nobody'), []);
      assert.equal((await search('search=&page_size=100')).length, SEEDS.length, 'empty: no filter');
    });

    test('% and _ and \\ match themselves, not as LIKE wildcards or escape', async () => {
      assert.deepEqual(await search(`search=${encodeURIComponent('0%')}`), ['cust-300']);
      assert.deepEqual(await search(`search=${encodeURIComponent('%')}`), ['cust-300']);
      assert.deepEqual(await search('search=cust_2'), ['cust_200']);
      assert.deepEqual(await search('search=_'), ['cust_200']);
      assert.deepEqual(await search(`search=${encodeURIComponent('k\\s')}`), ['cust-400']);
    });

    test('combines with provider, status, type and origin_owner_id', async () => {
      assert.deepEqual(await search('search=acme&provider=attio'), ['cust-100']);
      assert.deepEqual(await search('search=acme&status=error'), ['cust-101']);
      assert.deepEqual(await search('search=acme&type=test'), ['cust-101']);
      assert.deepEqual(await search('search=acme&type=PRODUCTION'), ['cust-100']);
      assert.deepEqual(await search('search=acme&origin_owner_id=cust-101'), ['cust-101']);
      assert.deepEqual(await search('type=test'), ['cust-101']);
    });

    test('pages with page/page_size and with the cursor, which keeps the search', async () => {
      const byPage: string[] = [];
      for (let page = 1; page <= 3; page++)
        byPage.push(...(await search(`search=bulk&page=${page}&page_size=5`)));
      assert.deepEqual(
        byPage,
        Array.from({ length: 12 }, (_, i) => `bulk-${i}`),
      );

      const byCursor: string[] = [];
      let url = '/accounts?search=BULK&page_size=5';
      for (let i = 0; i < 5 && url; i++) {
        const res = await call(server, 'GET', url, { key });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        byCursor.push(...ids(res.body));
        const next = res.headers.get('x-next-cursor');
        if (next)
          assert.equal(
            res.headers.get('link'),
            `<${server.url}/accounts?search=BULK&page_size=5&cursor=${next}>; rel="next"`,
          );
        url = next ? `/accounts?search=BULK&page_size=5&cursor=${next}` : '';
      }
      assert.deepEqual(byCursor, byPage);
    });

    test('a search longer than 200 characters is a 400 in the wire shape', async () => {
      assert.equal((await search(`search=${'a'.repeat(200)}`)).length, 0);
      const res = await call(server, 'GET', `/accounts?search=${'a'.repeat(201)}`, { key });
      assert.equal(res.status, 400);
      assert.equal(res.body.statusCode, 400);
      assert.equal(typeof res.body.timestamp, 'string');
      assert.match(res.body.message, /search/);
      assert.ok(
        res.body.errors.some((e: string) => /search.*200/.test(e)),
        JSON.stringify(res.body),
      );
      const bad = await call(server, 'GET', '/accounts?type=staging', { key });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body.errors), /production, test/);
    });

    test('the console reaches the same search through its per-project mount', async () => {
      const operator = await operatorWithPassword(server, `search-${backend}@example.com`);
      const console = new ConsoleClient(server);
      assert.equal((await console.signIn(operator.email, operator.password)).status, 201);
      const res = await console.call('GET', `/projects/${projectId}/accounts?search=ACME&status=active`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(ids(res.body), ['cust-100']);
      const page = await console.call('GET', `/projects/${projectId}/accounts?search=bulk&page_size=10`);
      const next = page.headers.get('x-next-cursor');
      assert.ok(next);
      const rest = await console.call(
        'GET',
        `/projects/${projectId}/accounts?search=bulk&page_size=10&cursor=${next}`,
      );
      assert.deepEqual(ids(rest.body), ['bulk-10', 'bulk-11']);
    });
  });
}
