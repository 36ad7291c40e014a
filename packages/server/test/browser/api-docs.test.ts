import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const available = chromiumAvailable();

/** What swagger-ui shows when it cannot render part of an operation or the document. */
const ERROR_TEXTS = [
  'Could not render',
  'Default Response',
  'Resolver error',
  'Unknown Type',
  'Failed to load API definition',
  'Parser error',
  'No operations defined in spec!',
];

/** The API reference at /docs, rendered by swagger-ui in Debian's Chromium, operation by operation. */
describe('API reference in Chromium', { skip: available === true ? false : available }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    server = await startTestServer('pglite', { LOG_LEVEL: 'silent' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('every operation expands without error text; Plugboard title and logo; nothing loaded from elsewhere', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const expected = Object.values<Record<string, unknown>>(doc.paths).reduce(
      (n, item) =>
        n + Object.keys(item).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).length,
      0,
    );

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const foreign: string[] = [];
    const consoleErrors: string[] = [];
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(server.url) && !url.startsWith('data:')) foreign.push(url);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`${server.url}/docs/`);
    await page.locator('.opblock').first().waitFor();
    assert.equal(await page.title(), 'Plugboard API reference');
    assert.match((await page.locator('.info .title').innerText()).trim(), /^Plugboard API/);
    const logo = page.locator('.topbar img');
    assert.match((await logo.getAttribute('src')) ?? '', /^data:image\/svg\+xml;base64,/);

    const operations = page.locator('#swagger-ui .opblock');
    assert.equal(await operations.count(), expected, 'every operation of the document is listed');
    // One operation open at a time (swagger-ui re-renders every open one on each click): open it, read
    // what it renders (parameters, request body, every response), close it again.
    const shown: string[] = [];
    for (let i = 0; i < expected; i++) {
      const operation = operations.nth(i);
      const summary = operation.locator('.opblock-summary-control');
      await summary.click();
      await operation.locator('.responses-wrapper .response').first().waitFor();
      const name = (await summary.innerText()).replace(/\s+/g, ' ').trim();
      const text = await operation.innerText();
      for (const error of ERROR_TEXTS) assert.ok(!text.includes(error), `${name}: "${error}"`);
      if (name.includes('/connect/oauth2/{integration_id}'))
        await page.screenshot({ path: path.join(ARTIFACTS, 'api-docs-oauth-start.png') });
      shown.push(text);
      await summary.click();
      await operation.locator('.responses-wrapper').waitFor({ state: 'detached' });
    }
    // swagger-ui lists problems with the document in an "Errors" panel.
    assert.equal(await page.locator('.errors-wrapper').count(), 0, 'no Errors panel');
    const all = shown.join('\n');
    // The opened operations really show their documentation, not just empty boxes.
    for (const text of ['redirect_uri', 'connection_attempt_id', 'location', 'Acme Inc'])
      assert.ok(all.includes(text), `"${text}" is shown`);
    assert.match(await page.locator('.information-container').innerText(), /x-hub-session-token/);
    // The OAuth start and callback, and the sandbox's consent page (which redirects malformed requests).
    assert.equal(shown.filter((t) => /(^|\s)302(\s|$)/.test(t)).length, 3, 'every redirect shows a 302');
    assert.deepEqual(foreign, [], 'swagger-ui loads nothing from outside Plugboard');
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });
});
