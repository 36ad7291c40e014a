import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isSecretField } from '../src/connectors/auth-schema.ts';
import { loadCatalogue } from '../src/connectors/catalogue.ts';
import { backends } from './support/backends.ts';
import { createSession, hubCall } from './support/connect.ts';
import { type ContractCase, contractCases, sampleValues, type Values } from './support/contract-cases.ts';
import {
  type ContractStandIn,
  PROBE_PATH,
  REFUSAL_MARK,
  startContractStandIn,
} from './support/contract-stand-in.ts';
import { location } from './support/oauth.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

/**
 * The catalogue's contract suite: every auth method of every connector file, generated from the files,
 * against one stand-in provider (support/contract-stand-in.ts) that knows only what the file declares.
 * A new connector file is covered by adding it; a wrong header name, query parameter, basic-auth
 * layout, check path, OAuth endpoint, client authentication or scope fails here.
 */
const cases = contractCases(loadCatalogue());

for (const backend of backends()) {
  // The cases share nothing but the two servers, so they run side by side.
  describe(`connector contracts (${backend})`, { concurrency: 8 }, () => {
    let server: TestServer;
    let standIn: ContractStandIn;
    let key: string;
    let owners = 0;

    before(async () => {
      standIn = await startContractStandIn();
      server = await startTestServer(backend, {
        PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback',
        PLUGBOARD_RATE_LIMIT_PER_MINUTE: '1000000',
        LOG_LEVEL: 'warn',
      });
      key = (await server.newProject('Contracts')).api_key;
    });
    after(async () => {
      await server?.close();
      await standIn?.close();
    });

    const oauthClient = (c: ContractCase) => ({
      client_id: `client-${c.connector.key}`,
      client_secret: `client-secret-${c.connector.key}`,
    });

    async function enable(c: ContractCase, good: Values): Promise<string> {
      const isCode = c.method.type === 'oauth2' && c.method.grant_type === 'authorization_code';
      const client = isCode ? oauthClient(c) : undefined;
      const urls = standIn.register(c, good, client);
      const res = await call(server, 'POST', '/auth_configs', {
        key,
        body: {
          connector_key: c.connector.key,
          authentication_config_key: c.method.key,
          urls,
          ...(client ? { oauth: client } : {}),
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id;
    }

    const proxy = (accountId: string) =>
      call(server, 'POST', '/unified/proxy', {
        key,
        headers: { 'x-account-id': accountId },
        body: { path: PROBE_PATH, method: 'get' },
      });

    /** The declared check reached the stand-in (which refused it, saying why, if anything was off). */
    function assertCheckCalled(c: ContractCase, values: Values) {
      const { method } = c.connector.check!;
      const expected = standIn.checkUrl(c, values).pathname;
      const seen = standIn
        .calls(c)
        .some((r) => r.method === method && new URL(r.url, 'http://stand-in').pathname === expected);
      assert.ok(seen, `the check did not reach ${method} ${expected}`);
    }

    async function proxiedCallCarriesCredentials(c: ContractCase, accountId: string) {
      const probes = () => standIn.calls(c).filter((r) => r.url.split('?')[0]!.endsWith(PROBE_PATH)).length;
      const before = probes();
      const res = await proxy(accountId);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { probe: c.connector.key, method: 'GET' });
      assert.equal(probes(), before + 1, 'exactly one proxied request reached the stand-in');
    }

    for (const c of cases) {
      const { connector, method } = c;
      const label = `${connector.key} · ${method.key}`;
      const owner = () => `${connector.key}-${method.key}-${++owners}`;

      if (method.type === 'custom' || method.grant_type === 'client_credentials') {
        describe(label, () => {
          // In the hook, not here: a file without usable sample values fails its own tests, not the run.
          let good: Values;
          let integration: string;
          before(async () => {
            good = sampleValues(connector, method, 'good');
            integration = await enable(c, good);
          });

          test('the check and a proxied call carry each credential where the file says', async () => {
            const { token } = await createSession(server, key, {
              origin_owner_id: owner(),
              integration_id: integration,
            });
            const res = await hubCall(server, token, 'POST', '/hub/accounts', {
              integration_id: integration,
              credentials: good,
            });
            assert.equal(res.status, 201, JSON.stringify(res.body));
            if (method.type === 'oauth2') {
              const grants = standIn.tokenRequests(c);
              assert.equal(
                grants.at(-1)?.grant,
                'client_credentials',
                'a token was bought with the client credentials',
              );
            }
            if (connector.check) assertCheckCalled(c, good);
            await proxiedCallCarriesCredentials(c, res.body.id);
          });

          test('wrong credentials are refused through the hub with the provider answer', {
            skip: !connector.check && method.type === 'custom' ? 'the file declares no check' : false,
          }, async () => {
            const bad = sampleValues(connector, method, 'bad');
            assert.ok(
              method.fields.some((f) => isSecretField(f) && bad[f.key] !== good[f.key]),
              'the wrong credentials differ from the good ones',
            );
            const { token } = await createSession(server, key, {
              origin_owner_id: owner(),
              integration_id: integration,
            });
            const res = await hubCall(server, token, 'POST', '/hub/accounts', {
              integration_id: integration,
              credentials: bad,
            });
            assert.ok(
              res.status >= 400 && res.status < 500,
              `HTTP ${res.status}: ${JSON.stringify(res.body)}`,
            );
            assert.match(String(res.body.provider_response), new RegExp(REFUSAL_MARK));
          });
        });
        continue;
      }

      describe(label, () => {
        let settings: Values;
        let integration: string;
        before(async () => {
          settings = sampleValues(connector, method, 'good');
          integration = await enable(c, settings);
        });

        test('code + PKCE with the declared scopes, then the check and a proxied call carry the token', async () => {
          const session = await createSession(server, key, {
            origin_owner_id: owner(),
            integration_id: integration,
          });
          const finishPage = `${server.url}/embedded/accounts/callback`;
          const start = new URL(`${server.url}/connect/oauth2/${integration}`);
          start.searchParams.set('redirect_uri', finishPage);
          start.searchParams.set('token', session.token);
          for (const [k, v] of Object.entries(settings)) start.searchParams.set(k, v);
          const toProvider = await location(start.toString());
          assert.equal(toProvider.status, 302, toProvider.body);

          const authorize = new URL(toProvider.location!);
          assert.equal(authorize.pathname, standIn.pathOf(c, method.authorization_url!, settings));
          const q = authorize.searchParams;
          assert.equal(q.get('response_type'), 'code');
          assert.equal(q.get('client_id'), oauthClient(c).client_id);
          assert.equal(q.get('redirect_uri'), `${server.url}/connect/oauth2/callback`);
          assert.equal(
            q.get('scope'),
            method.scopes.length ? method.scopes.join(method.scope_separator ?? ' ') : null,
          );
          if (method.pkce === false) assert.equal(q.get('code_challenge'), null);
          else assert.equal(q.get('code_challenge_method'), 'S256');
          for (const [k, v] of Object.entries(method.authorize_params ?? {})) assert.equal(q.get(k), v, k);

          const toCallback = await location(authorize.toString());
          assert.equal(toCallback.status, 302, toCallback.body);
          const back = await location(toCallback.location!);
          assert.equal(back.status, 302, back.body);
          const finish = new URL(back.location!);
          assert.equal(
            finish.searchParams.get('status'),
            'success',
            finish.searchParams.get('error_description') ?? '',
          );
          assert.equal(standIn.tokenRequests(c).at(-1)?.grant, 'authorization_code');
          const values = { ...settings, access_token: `at-${connector.key}-${method.key}-1` };
          if (connector.check) assertCheckCalled(c, values);
          await proxiedCallCarriesCredentials(c, finish.searchParams.get('account_id')!);
        });
      });
    }
  });
}
