import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StackOne } from '@stackone/stackone-client-ts';
import {
  BadRequestResponse,
  ResponseValidationError,
  TooManyRequestsResponse,
  UnauthorizedResponse,
} from '@stackone/stackone-client-ts/sdk/models/errors/index.js';
import {
  ConnectSessionCreateCategories,
  ConnectSessionCreateType,
  type ConnectSessionCreateTypeOpen,
} from '@stackone/stackone-client-ts/sdk/models/shared/index.js';
import { backends } from './support/backends.ts';
import { connectAttio, enableAttio, startAcceptingProvider } from './support/connect.ts';
import type { FakeProvider } from './support/fake-provider.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from './support/server.ts';

const noRetries = { strategy: 'none' } as const;

/**
 * The StackOne SDK in more depth: every field it can send (account_id included, which needs a real
 * account), what its schemas do to our answers, and its typed errors for 400, 401 and 429.
 */
for (const backend of backends()) {
  describe(`StackOne SDK: every session field and error (${backend})`, () => {
    let server: TestServer;
    let provider: FakeProvider;
    let key: string;
    let sdk: StackOne;
    let accountId: string;

    before(async () => {
      provider = await startAcceptingProvider();
      server = await startTestServer(backend, {
        ...LOOPBACK_PROVIDERS,
        PLUGBOARD_PUBLIC_URL: 'https://pb.example.test/',
      });
      key = (await server.newProject()).api_key;
      accountId = await connectAttio(server, key, await enableAttio(server, key, provider), {
        origin_owner_id: 'sdk-owner',
      });
      sdk = new StackOne({
        serverURL: server.url,
        security: { username: key, password: '' },
        retryConfig: noRetries,
      });
    });
    after(async () => {
      await server.close();
      await provider.close();
    });

    test('every field the SDK sends comes back typed and right', async () => {
      const created = await sdk.connectSessions.createConnectSession({
        originOwnerId: 'sdk-owner',
        originOwnerName: 'SDK Owner',
        originUsername: 'sdk@example.test',
        accountId,
        categories: [ConnectSessionCreateCategories.Crm, ConnectSessionCreateCategories.Stackone],
        provider: 'attio',
        providerVersion: '1',
        label: 'via SDK',
        metadata: { dropped: 'by the SDK' },
        type: ConnectSessionCreateType.Test,
        multiple: true,
        expiresIn: 3600,
      });
      assert.equal(created.statusCode, 201);
      assert.equal(created.contentType.split(';')[0], 'application/json');
      const s = created.connectSessionTokenAuthLink;
      assert.ok(s);
      const expected = {
        accountId,
        categories: ['crm', 'stackone'],
        organizationId: s.organizationId,
        originOwnerId: 'sdk-owner',
        originOwnerName: 'SDK Owner',
        originUsername: 'sdk@example.test',
        projectId: s.projectId,
        provider: 'attio',
        label: 'via SDK',
        type: 'test',
      };
      for (const [field, value] of Object.entries(expected))
        assert.deepEqual(s[field as keyof typeof s], value, field);
      assert.ok(Number.isSafeInteger(s.id) && s.id > 0);
      assert.ok(Number.isSafeInteger(s.organizationId) && s.organizationId > 0);
      assert.match(s.projectId, /^proj_/);
      assert.ok(s.createdAt instanceof Date);
      assert.ok(Math.abs(s.createdAt.getTime() - Date.now()) < 3_600_000, 'a plausible creation time');
      assert.equal(s.authLinkUrl, `https://pb.example.test/embedded/integrations?token=${s.token}`);
      assert.equal(typeof s.externalTriggerToken, 'string');

      const a = (await sdk.connectSessions.authenticateConnectSession({ token: s.token })).connectSession;
      assert.ok(a);
      for (const [field, value] of Object.entries(expected))
        assert.deepEqual(a[field as keyof typeof a], value, `authenticate ${field}`);
      assert.equal(a.id, s.id);
      assert.ok(a.createdAt instanceof Date);
      assert.equal(a.createdAt.toISOString(), s.createdAt.toISOString());
      assert.equal(a.externalTriggerToken, s.externalTriggerToken);
      assert.equal('token' in a, false, 'authenticate returns no token');

      // What the SDK really sent: its Metadata schema is an empty object, so it strips every key.
      const row = await server.database.db
        .selectFrom('connect_sessions')
        .select(['metadata', 'provider_version', 'multiple', 'expires_at', 'created_at'])
        .where('id', '=', s.id as never)
        .executeTakeFirstOrThrow();
      assert.deepEqual(row.metadata, {}, 'SDK quirk: metadata keys are stripped before sending');
      assert.deepEqual(s.metadata, {});
      assert.equal(row.provider_version, '1');
      assert.equal(row.multiple, true);
      assert.equal(Math.round((row.expires_at.getTime() - row.created_at.getTime()) / 1000), 3600);
    });

    test('type spellings the SDK lets through (open enum) are normalised', async () => {
      for (const [sent, wire] of [
        ['PRODUCTION', 'production'],
        ['Test', 'test'],
      ]) {
        const res = await sdk.connectSessions.createConnectSession({
          originOwnerId: 'o',
          originOwnerName: 'O',
          type: sent as ConnectSessionCreateTypeOpen,
        });
        assert.equal(res.connectSessionTokenAuthLink?.type, wire, sent);
      }
    });

    test('SDK quirk: its category enum lacks "scheduling", so it cannot read such a session', async () => {
      const res = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: 'o', origin_owner_name: 'O', categories: ['scheduling'] },
      });
      assert.deepEqual(res.body.categories, ['scheduling'], 'Plugboard emits the wire form');
      await assert.rejects(
        sdk.connectSessions.authenticateConnectSession({ token: res.body.token }),
        (err: unknown) => err instanceof ResponseValidationError,
      );
    });

    test('400 and 401 surface as BadRequestResponse and UnauthorizedResponse with our message', async () => {
      await assert.rejects(
        sdk.connectSessions.createConnectSession({ originOwnerId: ' ', originOwnerName: 'O', expiresIn: 0 }),
        (err: unknown) => {
          assert.ok(err instanceof BadRequestResponse, String(err));
          assert.equal(err.statusCode, 400);
          assert.match(err.message, /origin_owner_id/);
          assert.match(err.message, /expires_in/);
          assert.ok(err.timestamp instanceof Date && !Number.isNaN(err.timestamp.getTime()));
          assert.deepEqual(
            JSON.parse(err.body).errors.map((e: string) => e.split(':')[0]),
            ['body.origin_owner_id', 'body.expires_in'],
          );
          return true;
        },
      );
      await assert.rejects(sdk.connectSessions.authenticateConnectSession({ token: 'pbcs_nope' }), (err) => {
        assert.ok(err instanceof UnauthorizedResponse, String(err));
        assert.equal(err.statusCode, 401);
        assert.equal(
          err.message,
          'The connect session token is invalid or has expired. Create a new connect session.',
        );
        assert.ok(err.timestamp instanceof Date);
        return true;
      });
      const stranger = new StackOne({
        serverURL: server.url,
        security: { username: 'pbk_not_a_key', password: '' },
        retryConfig: noRetries,
      });
      await assert.rejects(
        stranger.connectSessions.createConnectSession({ originOwnerId: 'o', originOwnerName: 'O' }),
        (err) => err instanceof UnauthorizedResponse && err.message === 'Invalid or revoked API key.',
      );
    });
  });

  describe(`StackOne SDK: rate limit (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(backend, { PLUGBOARD_RATE_LIMIT_PER_MINUTE: '2' });
    });
    after(() => server.close());

    test('429 surfaces as TooManyRequestsResponse with Retry-After', async () => {
      const { api_key } = await server.newProject();
      const sdk = new StackOne({
        serverURL: server.url,
        security: { username: api_key, password: '' },
        retryConfig: noRetries,
      });
      const body = { originOwnerId: 'o', originOwnerName: 'O' };
      await sdk.connectSessions.createConnectSession(body);
      await sdk.connectSessions.createConnectSession(body);
      await assert.rejects(sdk.connectSessions.createConnectSession(body), (err) => {
        assert.ok(err instanceof TooManyRequestsResponse, String(err));
        assert.equal(err.statusCode, 429);
        assert.match(err.message, /Rate limit/);
        assert.ok(Number(err.headers.get('retry-after')) > 0);
        return true;
      });
    });
  });
}
