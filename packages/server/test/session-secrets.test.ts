import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { filesContaining } from './support/files.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** The random part of a prefixed secret: finding it anywhere would be a leak even without the prefix. */
const randomPart = (secret: string) => secret.slice(secret.indexOf('_') + 1);

for (const backend of backends()) {
  describe(`session tokens and API keys in logs and in the database (${backend})`, () => {
    let server: TestServer;
    let key: string;
    let token: string;
    before(async () => {
      // trace: the most verbose level, so any body or header logging would show up.
      server = await startTestServer(backend, { LOG_LEVEL: 'trace' });
      key = (await server.newProject()).api_key;
      const created = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: 'o', origin_owner_name: 'O' },
      });
      assert.equal(created.status, 201);
      token = created.body.token;
    });
    after(() => server.close());

    test('neither the token nor the key reaches the logs, whichever way they are sent', async () => {
      const oauthCode = `code-${randomBytes(12).toString('hex')}`;
      const oauthState = `state-${randomBytes(12).toString('hex')}`;
      const json = { 'content-type': 'application/json' };
      const sent = [
        // The OAuth popup URL carries the token in the query string; this integration does not exist,
        // so the request fails, and is logged anyway.
        fetch(
          `${server.url}/connect/oauth2/${randomUUID()}?token=${token}&redirect_uri=https%3A%2F%2Fapp.test%2Fcb`,
        ),
        fetch(`${server.url}/connect/oauth2/callback?code=${oauthCode}&state=${oauthState}`),
        fetch(`${server.url}/connect_sessions/authenticate?token=${token}&api_key=${key}`, {
          method: 'POST',
          headers: { ...json, authorization: `Basic ${b64(`${key}:`)}` },
          body: JSON.stringify({ token }),
        }),
        fetch(`${server.url}/connect_sessions/authenticate`, {
          method: 'POST',
          headers: { ...json, authorization: `Bearer ${key}` },
          body: `{"token": "${token}"`, // malformed JSON that contains the token
        }),
        fetch(`${server.url}/connect_sessions/authenticate`, {
          method: 'POST',
          headers: { ...json, authorization: `Basic ${b64(key)}` },
          body: JSON.stringify({ token, extra: token }), // a validation error echoing nothing secret
        }),
        fetch(`${server.url}/hub/settings`, { headers: { 'x-hub-session-token': token } }),
        fetch(`${server.url}/nowhere`, { headers: { authorization: `Bearer ${key}`, cookie: `s=${token}` } }),
      ];
      const statuses = await Promise.all(sent.map((p) => p.then((r) => r.status)));
      const [popup, callback, ...rest] = statuses;
      assert.ok(popup! >= 400 && popup! < 500, `popup ${popup}`);
      assert.ok(callback! >= 400 && callback! < 500, `callback ${callback}`);
      assert.deepEqual(rest, [201, 400, 400, 200, 404]);
      const logs = server.logs();
      assert.match(
        logs,
        /\/connect\/oauth2\/[0-9a-f-]{36}\?token=%5Bredacted%5D&redirect_uri=/,
        'the failed popup request was logged',
      );
      assert.match(logs, /\/connect_sessions\/authenticate\?token=%5Bredacted%5D&api_key=%5Bredacted%5D/);
      for (const [name, secret] of [
        ['token', token],
        ['key', key],
        ['token body', randomPart(token)],
        ['key body', randomPart(key)],
        ['basic credentials', b64(`${key}:`)],
        ['OAuth code', oauthCode],
        ['OAuth state', oauthState],
      ] as const) {
        assert.ok(!logs.includes(secret), `the ${name} leaked into the logs`);
      }
    });

    test('the tables hold only SHA-256 hashes of tokens and keys', async () => {
      const sessions = await server.database.db.selectFrom('connect_sessions').selectAll().execute();
      const keys = await server.database.db.selectFrom('api_keys').selectAll().execute();
      for (const row of [...sessions, ...keys]) {
        for (const [column, value] of Object.entries(row)) {
          const text = value instanceof Date ? value.toISOString() : JSON.stringify(value);
          assert.ok(!text.includes(randomPart(token)), `connect_sessions.${column} holds the token`);
          assert.ok(!text.includes(randomPart(key)), `${column} holds the key`);
        }
      }
      const session = sessions.find((s) => s.token_hash === sha256(token));
      assert.ok(session, 'the session row is found by the hash of its token');
      const keyRow = keys.find((k) => k.key_hash === sha256(key));
      assert.ok(keyRow, 'the key row is found by the hash of the key');
      assert.equal(keyRow.key_hint, `${key.slice(0, 8)}…`, 'only a short, non-usable hint is kept');
    });
  });
}

describe('PGlite data files after creating sessions (pglite on disk)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-session-disk-'));
  let server: TestServer | undefined;
  after(async () => {
    await server?.close().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('no file under the data directory contains a token or an API key', async () => {
    server = await startTestServer('pglite', {}, { pgliteDir: dataDir });
    const { api_key: key } = await server.newProject();
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: `o-${i}`, origin_owner_name: 'O', label: `disk-marker-${i}` },
      });
      assert.equal(res.status, 201);
      tokens.push(res.body.token);
    }
    await server.close();
    server = undefined;
    // The scan can find things: the labels were written to disk.
    assert.ok(filesContaining(dataDir, 'disk-marker-3').length > 0, 'the data files hold the rows');
    for (const secret of [key, ...tokens])
      assert.deepEqual(filesContaining(dataDir, randomPart(secret)), [], `${secret.slice(0, 5)}… on disk`);
  });
});
