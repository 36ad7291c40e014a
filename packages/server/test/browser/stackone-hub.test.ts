import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { startEmbedder } from '../support/embedder.ts';
import { type FakeProvider, startFakeProvider } from '../support/fake-provider.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from '../support/server.ts';

const GOOD = 'stackone-hub-good-key-123456';
const available = chromiumAvailable();

/**
 * StackOne's own hub web component (@stackone/hub/webcomponent), on a page of another origin, with
 * base-url and app-url pointed at Plugboard: it must connect and re-connect an API-key account.
 */
describe('@stackone/hub against Plugboard in Chromium', {
  skip: available === true ? false : available,
}, () => {
  let server: TestServer;
  let provider: FakeProvider;
  let embedder: Awaited<ReturnType<typeof startEmbedder>>;
  let browser: Browser;
  let key: string;

  before(async () => {
    provider = await startFakeProvider((req) =>
      req.headers.authorization === `Basic ${Buffer.from(`${GOOD}:x`).toString('base64')}`
        ? { status: 200, body: [] }
        : { status: 403, body: { error: 'Forbidden by the fake BambooHR' } },
    );
    server = await startTestServer('pglite', LOOPBACK_PROVIDERS);
    key = (await server.newProject()).api_key;
    await call(server, 'POST', '/auth_configs', {
      key,
      body: { connector_key: 'bamboohr', urls: { api_base_url: `${provider.url}/{{subdomain}}` } },
    });
    await call(server, 'POST', '/auth_configs', { key, body: { connector_key: 'greenhouse' } });
    const bundle = fs.readFileSync(createRequire(import.meta.url).resolve('@stackone/hub/webcomponent'));
    embedder = await startEmbedder({
      '/stackone-hub.js': { type: 'text/javascript', body: bundle },
      '/': {
        type: 'text/html; charset=utf-8',
        body: '<!doctype html><meta charset="utf-8"><title>Integrator</title>',
      },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await embedder?.close();
    await server?.close();
    await provider?.close();
  });

  /** The integrator's page: the script tag, then the element with base-url and app-url set before token. */
  async function embed(session: Record<string, unknown>): Promise<Page> {
    const created = await call(server, 'POST', '/connect_sessions', {
      key,
      body: { origin_owner_id: 'so-owner', origin_owner_name: 'StackOne Hub Co', ...session },
    });
    const page = await browser.newPage();
    await page.goto(embedder.url);
    await page.evaluate(
      ({ base, token }) => {
        const doc = (globalThis as any).document;
        (globalThis as any).hubEvents = [];
        const script = doc.createElement('script');
        script.src = '/stackone-hub.js';
        script.onload = () => {
          const hub = doc.createElement('stackone-hub');
          hub.setAttribute('mode', 'integration-picker');
          hub.setAttribute('base-url', base);
          hub.setAttribute('app-url', base);
          hub.setAttribute('token', token);
          hub.addEventListener('success', (e: any) => (globalThis as any).hubEvents.push(e.detail));
          doc.body.appendChild(hub);
        };
        doc.head.appendChild(script);
      },
      { base: server.url, token: created.body.token as string },
    );
    return page;
  }

  const events = (page: Page) =>
    page.evaluate(() => (globalThis as any).hubEvents as Array<{ id: string; provider: string }>);

  test('connects an API-key account, showing the provider error first', async () => {
    const page = await embed({});
    await page.getByText('BambooHR').first().click();
    await page.getByPlaceholder('acme').fill('acme');
    await page.getByPlaceholder('Your BambooHR API key').fill('rejected-key');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page
      .getByText(/rejected these credentials/)
      .first()
      .waitFor();
    assert.equal((await call(server, 'GET', '/accounts', { key })).body.length, 0);

    // StackOne's hub clears the form after an error.
    await page.getByPlaceholder('acme').fill('acme');
    await page.getByPlaceholder('Your BambooHR API key').fill(GOOD);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.waitForFunction(() => (globalThis as any).hubEvents.length > 0);
    const [event] = await events(page);
    const accounts = (await call(server, 'GET', '/accounts', { key })).body;
    assert.equal(accounts.length, 1);
    assert.deepEqual(event, { id: accounts[0].id, provider: 'bamboohr' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'stackone-hub-connected.png') });
    await page.close();
  });

  test('edit mode re-connects the same account', async () => {
    const [account] = (await call(server, 'GET', '/accounts', { key })).body;
    const page = await embed({ account_id: account.id });
    const secret = page.locator('input[value*="••••"]');
    await secret.first().waitFor();
    await page
      .getByRole('button', { name: /Connect|Save|Update/ })
      .last()
      .click();
    await page.waitForFunction(() => (globalThis as any).hubEvents.length > 0);
    assert.equal((await events(page))[0]?.id, account.id);
    const creds = await call(server, 'GET', `/accounts/${account.id}/credentials`, { key });
    assert.equal(creds.body.credentials.api_key, GOOD, 'the masked secret kept its stored value');
    assert.equal((await call(server, 'GET', '/accounts', { key })).body.length, 1);
    await page.close();
  });
});
