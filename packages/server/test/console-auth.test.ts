import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOperator } from '../src/services/console/operators.ts';
import { backends } from './support/backends.ts';
import { ConsoleClient, operatorWithPassword } from './support/console.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

for (const backend of backends()) {
  describe(`console sign-in and sessions (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(backend, {
        LOG_LEVEL: 'silent',
        PLUGBOARD_CONSOLE_MAX_FAILED_SIGN_INS: '3',
      });
    });
    after(() => server.close());

    test('a one-time password signs in, must be changed first, and the cookie is HttpOnly and SameSite=Strict', async () => {
      const { password } = await createOperator(server.database.db, { email: 'Ada@Example.com' });
      const client = new ConsoleClient(server);
      const res = await client.signIn('ada@example.com', password);
      assert.equal(res.status, 201);
      assert.equal(res.body.operator.email, 'ada@example.com');
      assert.equal(res.body.operator.must_change_password, true);
      const cookie = res.headers.get('set-cookie') ?? '';
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.match(cookie, /Path=\/console/);
      assert.doesNotMatch(cookie, /Secure/, 'http public URL: no Secure flag');

      const blocked = await client.call('GET', '/projects');
      assert.equal(blocked.status, 403);
      assert.match(blocked.body.message, /one-time password/);

      const weak = await client.call('POST', '/session/password', {
        current_password: password,
        new_password: 'short',
      });
      assert.equal(weak.status, 400);
      const changed = await client.call('POST', '/session/password', {
        current_password: password,
        new_password: 'a much better passphrase',
      });
      assert.equal(changed.status, 204);
      const projects = await client.call('GET', '/projects');
      assert.equal(projects.status, 200);
      assert.ok(Array.isArray(projects.body.data));
    });

    test('unsafe requests need the CSRF token and a same-origin Origin', async () => {
      const { email, password } = await operatorWithPassword(server, 'csrf@example.com');
      const client = new ConsoleClient(server);
      await client.signIn(email, password);
      const noToken = await client.call('POST', '/projects', { name: 'X' }, { 'x-csrf-token': '' });
      assert.equal(noToken.status, 403);
      assert.match(noToken.body.message, /x-csrf-token/);
      const wrong = await client.call('POST', '/projects', { name: 'X' }, { 'x-csrf-token': 'guess' });
      assert.equal(wrong.status, 403);
      const foreign = await client.call(
        'POST',
        '/projects',
        { name: 'X' },
        { origin: 'https://evil.example' },
      );
      assert.equal(foreign.status, 403);
      assert.match(foreign.body.message, /Cross-site/);
      const ok = await client.call('POST', '/projects', { name: 'Made by console' }, { origin: server.url });
      assert.equal(ok.status, 201);
      assert.match(ok.body.api_key, /^pbk_/);
    });

    test('wrong passwords are throttled per email with 429 and Retry-After, even for the right password', async () => {
      const { email, password } = await operatorWithPassword(server, 'throttle@example.com');
      const client = new ConsoleClient(server);
      for (let i = 0; i < 3; i++) {
        const res = await client.signIn(email, 'wrong password!');
        assert.equal(res.status, 401);
        assert.match(res.body.message, /Wrong email or password/);
      }
      const locked = await client.signIn(email, password);
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      assert.match(locked.body.message, /Too many failed sign-ins/);
    });

    test('signed out, no console route answers; signing out ends the session', async () => {
      const anonymous = new ConsoleClient(server);
      for (const path of [
        '/session',
        '/projects',
        '/system',
        '/projects/proj_x/accounts',
        '/projects/proj_x/auth_configs',
      ]) {
        const res = await anonymous.call('GET', path);
        assert.equal(res.status, 401, path);
      }
      const { email, password } = await operatorWithPassword(server, 'bye@example.com');
      const client = new ConsoleClient(server);
      await client.signIn(email, password);
      const cookie = client.cookie;
      assert.equal((await client.call('DELETE', '/session')).status, 204);
      client.cookie = cookie;
      assert.equal((await client.call('GET', '/session')).status, 401);
    });

    test('project routes are the platform routes: same validation, errors and audit log with the operator', async () => {
      const { email, password } = await operatorWithPassword(server, 'ops@example.com');
      const { project_id } = await server.newProject('Audited');
      const client = new ConsoleClient(server);
      await client.signIn(email, password);
      const bad = await client.call('POST', `/projects/${project_id}/auth_configs`, {
        connector_key: 'nope',
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /Unknown connector "nope"/);
      const created = await client.call('POST', `/projects/${project_id}/auth_configs`, {
        connector_key: 'attio',
      });
      assert.equal(created.status, 201);
      const missing = await client.call('GET', '/projects/proj_missing/auth_configs');
      assert.equal(missing.status, 404);
      const log = await client.call('GET', `/projects/${project_id}/audit_log`);
      assert.equal(log.status, 200);
      const entry = log.body.data.find((e: { action: string }) => e.action === 'integration.created');
      assert.ok(entry, JSON.stringify(log.body.data));
      assert.equal(entry.actor_type, 'operator');
      assert.equal(entry.actor_id, email);
      assert.equal(entry.target_id, created.body.id);
      // The same services record changes made with an API key, under the key's id, without secrets.
      const { api_key } = await server.newProject('Keyed');
      const keyed = await call(server, 'POST', '/webhook_endpoints', {
        key: api_key,
        body: { url: 'https://hooks.example.com/in' },
      });
      assert.equal(keyed.status, 201);
      const projects = (await client.call('GET', '/projects')).body.data as Array<{
        project_id: string;
        name: string;
      }>;
      const keyedId = projects.find((p) => p.name === 'Keyed')!.project_id;
      const keyLog = await client.call(
        'GET',
        `/projects/${keyedId}/audit_log?action=webhook_endpoint.created`,
      );
      assert.equal(keyLog.body.data.length, 1);
      assert.equal(keyLog.body.data[0].actor_type, 'api_key');
      assert.match(keyLog.body.data[0].actor_id, /^key_/);
      assert.ok(
        !JSON.stringify(keyLog.body.data[0]).includes(keyed.body.secret),
        'no signing secret in the log',
      );
      const openapi = (await fetch(`${server.url}/openapi.json`).then((r) => r.json())) as { paths: object };
      assert.ok(!Object.keys(openapi.paths).some((p) => p.startsWith('/console')));
    });
  });
}
