import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { loadConfig } from '../src/config.ts';
import { registerErrorHandling } from '../src/http/error-handler.ts';
import { embeddedRoutes } from '../src/routes/embedded.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const PUBLIC_URL = 'https://connect.example.test/base';
const EMBEDDER = 'https://app.example.test';

/** The plugin on its own, with the app's error handling, answering in-process requests. */
async function pagesApp(bundlePath: string, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const config = loadConfig({
    PLUGBOARD_PUBLIC_URL: PUBLIC_URL,
    PLUGBOARD_HUB_ALLOWED_ORIGINS: EMBEDDER,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  await app.register(embeddedRoutes, { config, bundlePath });
  return app;
}

describe('hosted hub pages', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugboard-hub-'));
  const bundlePath = path.join(dir, 'plugboard-hub.js');
  fs.writeFileSync(bundlePath, 'export const built = true;\n');
  let app: FastifyInstance;
  before(async () => {
    app = await pagesApp(bundlePath);
  });
  after(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the connect page renders the element for the public URL, under a strict CSP', async () => {
    const res = await app.inject({ url: '/embedded/integrations?token=tok_abc&lang=de&theme=dark' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['cache-control'], 'no-store');
    const csp = String(res.headers['content-security-policy']);
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' https://connect.example.test data:",
      "connect-src 'self' https://connect.example.test",
      `frame-ancestors 'self' ${EMBEDDER}`,
    ])
      assert.ok(csp.split('; ').includes(directive), `CSP has "${directive}": ${csp}`);
    assert.match(
      res.body,
      /<plugboard-hub token="tok_abc" base-url="https:\/\/connect\.example\.test\/base" lang="de" theme="dark">/,
    );
    // The public URL's path prefix applies to the script too; no inline script anywhere.
    assert.match(
      res.body,
      /<script type="module" src="\/base\/embedded\/assets\/plugboard-hub\.js"><\/script>/,
    );
    assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>/);
  });

  test('everything interpolated into the page is escaped', async () => {
    const hostile = `"><script>alert(1)</script><img src=x onerror='y'>`;
    const res = await app.inject({
      url: `/embedded/integrations?token=${encodeURIComponent(hostile)}&lang=${encodeURIComponent('"><b>')}`,
    });
    assert.equal(res.statusCode, 200);
    assert.doesNotMatch(res.body, /<script>alert|<img|<b>/);
    assert.ok(res.body.includes('token="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(res.body.includes('onerror=&#39;y&#39;'));
  });

  test('a link without a token explains itself; a bad theme is a 400 in the wire shape', async () => {
    const res = await app.inject({ url: '/embedded/integrations' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /connect link is incomplete/);
    assert.doesNotMatch(res.body, /<plugboard-hub/);
    const bad = await app.inject({ url: '/embedded/integrations?token=t&theme=pink' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().statusCode, 400);
  });

  test('the finish page names explicit origins for its message, never "*"', async () => {
    const res = await app.inject({
      url: '/embedded/accounts/callback?status=success&account_id=acc_1&provider=hubspot&connection_attempt_id=a1',
    });
    assert.equal(res.statusCode, 200);
    assert.equal(
      res.headers['content-security-policy'],
      (await app.inject({ url: '/embedded/integrations' })).headers['content-security-policy'],
    );
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    const origins = res.body.match(/data-origins="([^"]*)"/)?.[1];
    assert.ok(origins);
    assert.deepEqual(JSON.parse(origins.replaceAll('&quot;', '"')), [
      'https://connect.example.test',
      EMBEDDER,
    ]);
    assert.match(res.body, /role="status">Connected\./);
    assert.match(res.body, /<script src="\/base\/embedded\/assets\/callback\.js"><\/script>/);

    const failed = await app.inject({
      url: `/embedded/accounts/callback?status=error&error=access_denied&error_description=${encodeURIComponent('<i>denied</i>')}`,
    });
    assert.match(failed.body, /did not succeed: &lt;i&gt;denied&lt;\/i&gt;/);

    const script = await app.inject({ url: '/embedded/assets/callback.js' });
    assert.equal(script.statusCode, 200);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(script.headers['x-content-type-options'], 'nosniff');
    assert.match(script.body, /opener\.postMessage\(message, origin\)/);
    assert.match(script.body, /window\.close\(\)/);
    assert.doesNotMatch(script.body, /['"]\*['"]/);
  });

  test('with every origin allowed, only the public origin receives the finish message', async () => {
    const open = await pagesApp(bundlePath, { PLUGBOARD_HUB_ALLOWED_ORIGINS: '*' });
    try {
      const res = await open.inject({ url: '/embedded/accounts/callback?status=cancelled' });
      assert.ok(res.body.includes('data-origins="[&quot;https://connect.example.test&quot;]"'));
      // Calls from any origin are fine (the token guards them); framing is not: never "*".
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'self'$/);
    } finally {
      await open.close();
    }
  });

  test('the bundle is served as read at startup, loadable cross-origin', async () => {
    const res = await app.inject({ url: '/embedded/assets/plugboard-hub.js' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, 'export const built = true;\n');
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  test('a missing bundle is a 503 in the wire shape that says how to fix it', async () => {
    const missing = await pagesApp(path.join(dir, 'not-built.js'));
    try {
      const res = await missing.inject({ url: '/embedded/assets/plugboard-hub.js' });
      assert.equal(res.statusCode, 503);
      const body = res.json();
      assert.equal(body.statusCode, 503);
      assert.match(body.message, /npm run build/);
      assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
      // The page itself still renders: only the script is unavailable.
      assert.equal((await missing.inject({ url: '/embedded/integrations?token=t' })).statusCode, 200);
    } finally {
      await missing.close();
    }
  });
});

describe('hosted hub pages in the full server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite');
  });
  after(async () => server?.close());

  test("a session's hosted page may be framed by its allowed_origins, and by nobody else", async () => {
    const { api_key } = await server.newProject();
    const session = await fetch(`${server.url}/connect_sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ origin_owner_id: 'o', origin_owner_name: 'O', allowed_origins: [EMBEDDER] }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    const framed = await fetch(`${server.url}/embedded/integrations?token=${session.token}`);
    assert.match(
      framed.headers.get('content-security-policy') ?? '',
      new RegExp(`frame-ancestors 'self' ${EMBEDDER}$`),
    );
    const unknown = await fetch(`${server.url}/embedded/integrations?token=pbt_unknown`);
    assert.match(unknown.headers.get('content-security-policy') ?? '', /frame-ancestors 'self'$/);
  });

  test('the session token in the page URL never reaches the logs', async () => {
    const token = `tok_never_logged_${Date.now()}`;
    const res = await fetch(`${server.url}/embedded/integrations?token=${token}`);
    assert.equal(res.status, 200);
    assert.ok((await res.text()).includes(`base-url="${server.url}"`));
    assert.match(server.logs(), /embedded\/integrations/);
    assert.ok(!server.logs().includes(token));
  });
});
