import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { startEmbedder } from '../support/embedder.ts';
import { type FakeProvider, startFakeProvider } from '../support/fake-provider.ts';
import { call, LOOPBACK_PROVIDERS, startTestServer, type TestServer } from '../support/server.ts';

const GOOD = 'bamboo-browser-key-0123456789';
const available = chromiumAvailable();

/** Plugboard's own hub at auth_link_url, driven in Debian's Chromium against the real server. */
describe('hosted connect page in Chromium', { skip: available === true ? false : available }, () => {
  let server: TestServer;
  let provider: FakeProvider;
  let browser: Browser;
  let key: string;
  let integrationId: string;

  before(async () => {
    provider = await startFakeProvider((req) =>
      req.headers.authorization === `Basic ${Buffer.from(`${GOOD}:x`).toString('base64')}`
        ? { status: 200, body: [] }
        : { status: 401, body: { error: 'API key not recognised by BambooHR (fake)' } },
    );
    server = await startTestServer('pglite', LOOPBACK_PROVIDERS);
    key = (await server.newProject()).api_key;
    const cfg = await call(server, 'POST', '/auth_configs', {
      key,
      body: { connector_key: 'bamboohr', urls: { api_base_url: `${provider.url}/{{subdomain}}` } },
    });
    integrationId = cfg.body.id;
    await call(server, 'POST', '/auth_configs', { key, body: { connector_key: 'greenhouse' } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await provider?.close();
  });

  async function openLink(
    query: string,
    session: Record<string, unknown>,
  ): Promise<{ page: Page; requests: string[] }> {
    const created = await call(server, 'POST', '/connect_sessions', {
      key,
      body: { origin_owner_id: 'browser-1', origin_owner_name: 'Browser Co', ...session },
    });
    const link = new URL(created.body.auth_link_url);
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${server.url}${link.pathname}${link.search}${query}`);
    return { page, requests };
  }

  test('connects an API-key provider: the provider rejection first, then success', async () => {
    const { page, requests } = await openLink('', { categories: ['hris', 'ats'], label: 'From the browser' });
    // Two providers allowed: the list shows both, with search.
    await page.getByRole('heading', { name: 'Connect an account' }).waitFor();
    await page.getByRole('searchbox', { name: 'Search providers' }).fill('bamb');
    assert.equal(await page.getByRole('button', { name: /Greenhouse/ }).count(), 0);
    await page.getByRole('button', { name: /BambooHR/ }).click();
    await page.getByRole('heading', { name: 'Connect BambooHR' }).waitFor();

    // Client-side validation before anything is sent.
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByText('API key is required').waitFor();
    assert.equal(await page.getByLabel('Company subdomain').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Company subdomain').fill('acme');
    await page.getByLabel(/^API key/).fill('wrong-key');
    assert.equal(await page.getByLabel(/^API key/).getAttribute('type'), 'password', 'secret masked');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByRole('heading', { name: 'The connection did not succeed' }).waitFor();
    assert.match(await page.getByRole('alert').innerText(), /API key not recognised by BambooHR/);
    assert.equal((await call(server, 'GET', '/accounts', { key })).body.length, 0);

    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByLabel('Company subdomain').fill('acme');
    await page.getByLabel(/^API key/).fill(GOOD);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByRole('heading', { name: 'Connected' }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'hosted-hub-success.png') });

    const accounts = (await call(server, 'GET', '/accounts', { key })).body;
    assert.equal(accounts.length, 1);
    assert.equal(accounts[0].label, 'From the browser');
    const origin = new URL(server.url).origin;
    assert.ok(requests.length > 3);
    for (const url of requests) assert.equal(new URL(url).origin, origin, `request left the server: ${url}`);
    await page.close();
  });

  test('edit mode re-connects the same account with masked secrets', async () => {
    const [account] = (await call(server, 'GET', '/accounts', { key })).body;
    const { page } = await openLink('', { account_id: account.id });
    await page.getByRole('heading', { name: 'Update your BambooHR connection' }).waitFor();
    assert.equal(await page.getByLabel('Company subdomain').inputValue(), 'acme');
    assert.equal(await page.getByLabel(/^API key/).inputValue(), `••••••••${GOOD.slice(-4)}`);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Connected' }).waitFor();
    const creds = await call(server, 'GET', `/accounts/${account.id}/credentials`, { key });
    assert.equal(creds.body.credentials.api_key, GOOD, 'the untouched secret kept its value');

    const again = await openLink('', { account_id: account.id });
    await again.page.getByRole('button', { name: 'Change API key' }).click();
    await again.page.getByLabel(/^API key/).fill('bad-new-key');
    await again.page.getByRole('button', { name: 'Save' }).click();
    await again.page.getByRole('heading', { name: 'The connection did not succeed' }).waitFor();
    const still = await call(server, 'GET', `/accounts/${account.id}/credentials`, { key });
    assert.equal(still.body.credentials.api_key, GOOD, 'a rejected change leaves the stored secret alone');
    assert.equal((await call(server, 'GET', '/accounts', { key })).body.length, 1, 'still one account');
    await page.close();
    await again.page.close();
  });

  test('German and dark theme render', async () => {
    const { page } = await openLink('&lang=de&theme=dark', {
      origin_owner_id: 'de-owner',
      provider: 'bamboohr',
      integration_id: integrationId,
    });
    await page.getByRole('heading', { name: 'BambooHR verbinden' }).waitFor();
    await page.getByRole('button', { name: 'Verbinden', exact: true }).waitFor();
    const colors = await page.locator('plugboard-hub').evaluate((host) => {
      const hub = host.shadowRoot!.querySelector('.hub')!;
      // The test tsconfig has no DOM lib; this runs in the page.
      const style = (globalThis as any).getComputedStyle(hub);
      return { bg: style.backgroundColor, fg: style.color };
    });
    assert.equal(colors.bg, 'rgb(17, 24, 39)');
    assert.equal(colors.fg, 'rgb(243, 244, 246)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'hosted-hub-de-dark.png') });
    // French via the browser's language when no attribute is set.
    const context = await browser.newContext({ locale: 'fr-FR' });
    const fr = await context.newPage();
    await fr.goto(page.url().replace('&lang=de&theme=dark', '&theme=light'));
    await fr.getByRole('heading', { name: 'Connecter BambooHR' }).waitFor();
    await context.close();
    await page.close();
  });

  test('keyboard only: tab to the fields, type, submit with Enter', async () => {
    const { page } = await openLink('', { origin_owner_id: 'keyboard-owner', provider: 'bamboohr' });
    await page.getByRole('heading', { name: 'Connect BambooHR' }).waitFor();
    await page.getByLabel('Company subdomain').focus();
    await page.keyboard.type('acme');
    await page.keyboard.press('Tab');
    await page.keyboard.type(GOOD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Connected' }).waitFor();
    await page.close();
  });

  test('in a popup, success is posted to the opener with an explicit origin', async () => {
    const created = await call(server, 'POST', '/connect_sessions', {
      key,
      body: { origin_owner_id: 'popup-owner', origin_owner_name: 'Popup Co', provider: 'bamboohr' },
    });
    const link = new URL(created.body.auth_link_url);
    const embedder = await startEmbedder({
      '/': {
        type: 'text/html; charset=utf-8',
        body: `<!doctype html><meta charset="utf-8"><button id="open">Connect</button><script>
          window.messages = [];
          window.addEventListener('message', (e) => window.messages.push({ origin: e.origin, data: e.data }));
          document.getElementById('open').onclick = () => window.open(${JSON.stringify(server.url + link.pathname + link.search)}, 'plugboard', 'width=480,height=640');
        </script>`,
      },
    });
    const opener = await browser.newPage();
    try {
      await opener.goto(embedder.url);
      const [popup] = await Promise.all([opener.waitForEvent('popup'), opener.click('#open')]);
      await popup.getByLabel('Company subdomain').fill('acme');
      await popup.getByLabel(/^API key/).fill(GOOD);
      await popup.getByRole('button', { name: 'Connect', exact: true }).click();
      await popup
        .getByRole('heading', { name: 'Connected' })
        .waitFor()
        .catch(async (err: Error) => {
          // Say what the popup showed instead, so a failure here can be understood from the log.
          const shown = popup.isClosed() ? '(popup closed)' : await popup.locator('body').innerText();
          throw new Error(`${err.message}\npopup showed: ${shown}`);
        });
      await opener.waitForFunction(() => (globalThis as any).messages.length > 0);
      const [message] = await opener.evaluate(() => (globalThis as any).messages);
      const account = (await call(server, 'GET', '/accounts?origin_owner_id=popup-owner', { key })).body[0];
      assert.equal(message.origin, new URL(server.url).origin);
      assert.deepEqual(message.data, { type: 'plugboard:success', id: account.id, provider: 'bamboohr' });
    } finally {
      await opener.close();
      await embedder.close();
    }
  });

  test('embedded in another origin, the element connects and fires a success event', async () => {
    const created = await call(server, 'POST', '/connect_sessions', {
      key,
      body: { origin_owner_id: 'embed-owner', origin_owner_name: 'Embed Co', provider: 'bamboohr' },
    });
    const embedder = await startEmbedder({
      '/': {
        type: 'text/html; charset=utf-8',
        body: `<!doctype html><meta charset="utf-8">
          <script type="module" src="${server.url}/embedded/assets/plugboard-hub.js"></script>
          <plugboard-hub base-url="${server.url}" token="${created.body.token}" theme="light"></plugboard-hub>
          <script>window.events = []; document.querySelector('plugboard-hub').addEventListener('success', (e) => window.events.push(e.detail));</script>`,
      },
    });
    const page = await browser.newPage();
    try {
      await page.goto(embedder.url);
      await page.getByLabel('Company subdomain').fill('acme');
      await page.getByLabel(/^API key/).fill(GOOD);
      await page.getByRole('button', { name: 'Connect', exact: true }).click();
      await page.waitForFunction(() => (globalThis as any).events.length > 0);
      const [detail] = await page.evaluate(() => (globalThis as any).events);
      assert.equal(detail.provider, 'bamboohr');
      assert.match(detail.id, /^acc_/);
    } finally {
      await page.close();
      await embedder.close();
    }
  });

  test('the page carries a strict Content-Security-Policy and no referrer', async () => {
    const res = await fetch(`${server.url}/embedded/integrations?token=x`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    const html = await res.text();
    assert.doesNotMatch(html, /<script>(?!<\/)/, 'no inline script');
    const hostile = await (
      await fetch(
        `${server.url}/embedded/integrations?token=${encodeURIComponent('"><script>alert(1)</script>')}`,
      )
    ).text();
    assert.doesNotMatch(hostile, /<script>alert/);
  });
});
