import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OAuth2Server } from 'oauth2-mock-server';
import type { Browser } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../support/browser.ts';
import { type FakeProvider, startFakeProvider } from '../support/fake-provider.ts';
import { enableMockHubspot, startMockAuthServer } from '../support/oauth.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from '../support/server.ts';

const available = chromiumAvailable();

/** The hub's OAuth popup in Chromium: opened inside the click, polled, closed by the hub. */
describe('OAuth popup flow in Chromium', { skip: available === true ? false : available }, () => {
  let server: TestServer;
  let auth: OAuth2Server;
  let api: FakeProvider;
  let browser: Browser;
  let key: string;
  let integration: string;

  before(async () => {
    auth = await startMockAuthServer();
    // Also serves a sign-in page that never finishes, for the "user closed the window" case.
    api = await startFakeProvider((req) =>
      req.url.startsWith('/stuck')
        ? { status: 200, body: 'Signing in…' }
        : { status: 200, body: { results: [] } },
    );
    server = await startTestServer('pglite', LOOPBACK_PROVIDERS);
    key = (await server.newProject()).api_key;
    integration = await enableMockHubspot(server, key, auth, api.url);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await auth?.stop();
    await api?.close();
  });

  async function open(body: Record<string, unknown>) {
    const session = await call(server, 'POST', '/connect_sessions', {
      key,
      body: { origin_owner_name: 'OAuth Co', provider: 'hubspot', ...body },
    });
    const link = new URL(session.body.auth_link_url);
    const page = await browser.newPage();
    await page.goto(`${server.url}${link.pathname}${link.search}`);
    await page.getByRole('button', { name: 'Connect with HubSpot' }).waitFor();
    return page;
  }

  test('clicking through the popup links an account', async () => {
    const page = await open({ origin_owner_id: 'popup-oauth', integration_id: integration });
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.getByRole('button', { name: 'Connect with HubSpot' }).click(),
    ]);
    await page.getByRole('heading', { name: 'Connected' }).waitFor();
    for (let i = 0; i < 50 && !popup.isClosed(); i++) await page.waitForTimeout(100);
    assert.ok(popup.isClosed(), 'the hub closed the popup');
    const accounts = (await call(server, 'GET', '/accounts?origin_owner_id=popup-oauth', { key })).body;
    assert.equal(accounts.length, 1);
    assert.equal(accounts[0].provider, 'hubspot');
    const attempts = (await call(server, 'GET', '/connection_attempts?origin_owner_id=popup-oauth', { key }))
      .body;
    assert.equal(attempts[0].status, 'authenticated');
    await page.close();
  });

  test('closing the popup cancels the attempt and says so', async () => {
    const stuck = await call(server, 'POST', '/auth_configs', {
      key,
      body: {
        connector_key: 'hubspot',
        oauth: { client_id: 'c', client_secret: 's' },
        urls: {
          authorization_url: `${api.url}/stuck`,
          token_url: `${auth.issuer.url}/token`,
          api_base_url: api.url,
        },
      },
    });
    const page = await open({ origin_owner_id: 'popup-closed', integration_id: stuck.body.id });
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.getByRole('button', { name: 'Connect with HubSpot' }).click(),
    ]);
    await popup.waitForURL(/\/stuck/);
    await popup.close();
    await page.getByText('The sign-in window was closed before the connection finished.').waitFor();
    const attempts = (await call(server, 'GET', '/connection_attempts?origin_owner_id=popup-closed', { key }))
      .body;
    assert.equal(attempts[0].status, 'cancelled', JSON.stringify(attempts));
    await page.close();
  });
});
