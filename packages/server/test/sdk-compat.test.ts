import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StackOne } from '@stackone/stackone-client-ts';
import {
  BadRequestResponse,
  UnauthorizedResponse,
} from '@stackone/stackone-client-ts/sdk/models/errors/index.js';
import {
  ConnectSessionCreateCategories,
  ConnectSessionCreateType,
} from '@stackone/stackone-client-ts/sdk/models/shared/index.js';
import { backends } from './support/backends.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/** StackOne's own SDK, pointed at Plugboard: its zod schemas reject any field of the wrong type. */
for (const backend of backends()) {
  describe(`@stackone/stackone-client-ts against Plugboard (${backend})`, () => {
    let server: TestServer;
    let sdk: StackOne;
    before(async () => {
      server = await startTestServer(backend);
      const { api_key } = await server.newProject();
      sdk = new StackOne({ serverURL: server.url, security: { username: api_key, password: '' } });
    });
    after(() => server.close());

    test('createConnectSession and authenticateConnectSession return fully typed sessions', async () => {
      const created = await sdk.connectSessions.createConnectSession({
        originOwnerId: 'cust-9',
        originOwnerName: 'Globex',
        originUsername: 'hank@globex.test',
        categories: [ConnectSessionCreateCategories.Hris, ConnectSessionCreateCategories.HrisLegacy],
        provider: 'hibob',
        label: 'HR sync',
        metadata: { source: 'sdk' },
        type: ConnectSessionCreateType.Test,
        multiple: false,
        expiresIn: 900,
      });
      assert.equal(created.statusCode, 201);
      const s = created.connectSessionTokenAuthLink!;
      assert.equal(typeof s.id, 'number');
      assert.equal(typeof s.organizationId, 'number');
      assert.match(s.projectId, /^proj_/);
      assert.equal(s.originOwnerId, 'cust-9');
      assert.equal(s.originOwnerName, 'Globex');
      assert.equal(s.originUsername, 'hank@globex.test');
      assert.deepEqual(s.categories, ['hris', 'hris-legacy']);
      assert.equal(s.provider, 'hibob');
      assert.equal(s.label, 'HR sync');
      assert.equal(s.type, 'test');
      assert.equal(s.accountId, null);
      assert.ok(s.createdAt instanceof Date && !Number.isNaN(s.createdAt.getTime()));
      assert.match(s.token, /^pbcs_/);
      assert.equal(s.authLinkUrl, `${server.url}/embedded/integrations?token=${s.token}`);
      assert.equal(typeof s.externalTriggerToken, 'string');

      const authed = await sdk.connectSessions.authenticateConnectSession({ token: s.token });
      assert.equal(authed.statusCode, 201);
      const a = authed.connectSession!;
      assert.equal(a.id, s.id);
      assert.equal(a.organizationId, s.organizationId);
      assert.equal(a.projectId, s.projectId);
      assert.equal(a.originUsername, 'hank@globex.test');
      assert.deepEqual(a.categories, ['hris', 'hris-legacy']);
      assert.equal(a.provider, 'hibob');
      assert.equal(a.type, 'test');
      assert.equal(a.label, 'HR sync');
      assert.equal(a.createdAt.getTime(), s.createdAt.getTime());
      assert.equal(a.externalTriggerToken, s.externalTriggerToken);
    });

    test('the minimal create uses the defaults', async () => {
      const created = await sdk.connectSessions.createConnectSession({
        originOwnerId: 'o',
        originOwnerName: 'O',
      });
      assert.equal(created.connectSessionTokenAuthLink?.type, 'production');
      assert.equal(created.connectSessionTokenAuthLink?.categories, null);
    });

    test('errors surface as the SDK typed errors', async () => {
      await assert.rejects(
        sdk.connectSessions.authenticateConnectSession({ token: 'pbcs_wrong' }),
        (err: unknown) =>
          err instanceof UnauthorizedResponse && err.statusCode === 401 && err.message.length > 0,
      );
      await assert.rejects(
        sdk.connectSessions.createConnectSession({ originOwnerId: '', originOwnerName: 'O' }),
        (err: unknown) => err instanceof BadRequestResponse && err.statusCode === 400,
      );
      const anonymous = new StackOne({
        serverURL: server.url,
        security: { username: 'pbk_nope', password: '' },
      });
      await assert.rejects(
        anonymous.connectSessions.createConnectSession({ originOwnerId: 'o', originOwnerName: 'O' }),
        (err: unknown) => err instanceof UnauthorizedResponse,
      );
    });
  });
}
