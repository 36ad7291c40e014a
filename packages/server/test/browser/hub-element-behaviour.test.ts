import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../support/browser.ts';
import { startEmbedder } from '../support/embedder.ts';
import { call, startTestServer, type TestServer } from '../support/server.ts';

const available = chromiumAvailable();

/**
 * What an embedder relies on beyond connecting: the OAuth finish page's message to the opener, focus
 * left alone on the host page, the close event, theming through CSS variables, the OAuth entry point.
 */
describe('hub element and finish page in Chromium', { skip: available === true ? false : available }, () => {
  const pages: Parameters<typeof startEmbedder>[0] = {};
  let embedder: Awaited<ReturnType<typeof startEmbedder>>;
  let stranger: Awaited<ReturnType<typeof startEmbedder>>;
  let server: TestServer;
  let browser: Browser;
  let key: string;

  before(async () => {
    embedder = await startEmbedder(pages);
    stranger = await startEmbedder(pages);
    server = await startTestServer('pglite', { PLUGBOARD_HUB_ALLOWED_ORIGINS: embedder.url });
    key = (await server.newProject()).api_key;
    await call(server, 'POST', '/auth_configs', { key, body: { connector_key: 'bamboohr' } });
    const hubspot = await call(server, 'POST', '/auth_configs', {
      key,
      body: { connector_key: 'hubspot', oauth: { client_id: 'client', client_secret: 'secret' } },
    });
    assert.equal(hubspot.status, 201, JSON.stringify(hubspot.body));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await embedder?.close();
    await stranger?.close();
  });

  const session = async (body: Record<string, unknown>) =>
    (
      await call(server, 'POST', '/connect_sessions', {
        key,
        body: { origin_owner_id: 'behaviour-1', origin_owner_name: 'Behaviour Co', ...body },
      })
    ).body as { token: string; auth_link_url: string };

  const elementPage = (token: string, style = '') => `<!doctype html><meta charset="utf-8">
    <style>${style}</style>
    <input id="mine" aria-label="The embedder's own input">
    <script type="module" src="${server.url}/embedded/assets/plugboard-hub.js"></script>
    <plugboard-hub base-url="${server.url}" token="${token}" lang="en" theme="light"></plugboard-hub>
    <script>
      window.events = [];
      const hub = document.querySelector('plugboard-hub');
      for (const type of ['success', 'close']) hub.addEventListener(type, (e) => window.events.push({ type, detail: e.detail ?? null }));
    </script>`;

  async function open(origin: string, path: string, html: string): Promise<Page> {
    pages[path] = { type: 'text/html; charset=utf-8', body: html };
    const page = await browser.newPage();
    await page.goto(`${origin}${path}`);
    return page;
  }

  test('the finish page posts the result to an allowed opener only, then closes', async () => {
    const finish = `${server.url}/embedded/accounts/callback?status=success&account_id=acc_1&provider=hubspot&connection_attempt_id=att_1`;
    const opener = `<!doctype html><meta charset="utf-8"><button id="open">Connect</button><script>
      window.messages = [];
      window.addEventListener('message', (e) => window.messages.push({ origin: e.origin, data: e.data }));
      document.getElementById('open').onclick = () => window.open(${JSON.stringify(finish)}, 'finish', 'width=480,height=640');
    </script>`;
    for (const [site, expectMessage] of [
      [embedder, true],
      [stranger, false],
    ] as const) {
      const page = await open(site.url, '/opener', opener);
      try {
        const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#open')]);
        if (!popup.isClosed()) await popup.waitForEvent('close');
        // A round trip to the page lets any posted message be delivered first.
        const messages = await page.evaluate(() => (globalThis as any).messages);
        if (expectMessage)
          assert.deepEqual(messages, [
            {
              origin: new URL(server.url).origin,
              data: {
                type: 'plugboard:oauth-callback',
                status: 'success',
                account_id: 'acc_1',
                provider: 'hubspot',
                connection_attempt_id: 'att_1',
              },
            },
          ]);
        else assert.deepEqual(messages, [], 'an origin that is not allowed receives nothing');
      } finally {
        await page.close();
      }
    }
  });

  test('embedded: focus stays on the host page, CSS variables theme the element', async () => {
    const { token } = await session({ provider: 'bamboohr' });
    const page = await open(
      embedder.url,
      '/themed',
      elementPage(token, 'plugboard-hub { --plugboard-accent: rgb(1, 2, 3); --plugboard-radius: 3px; }'),
    );
    try {
      await page.locator('#mine').focus();
      await page.getByRole('heading', { name: 'Connect BambooHR' }).waitFor();
      assert.equal(await page.evaluate(() => (globalThis as any).document.activeElement.id), 'mine');
      const button = await page.getByRole('button', { name: 'Connect', exact: true }).evaluate((el) => {
        const style = (globalThis as any).getComputedStyle(el);
        return { bg: style.backgroundColor, radius: style.borderTopLeftRadius };
      });
      assert.equal(button.bg, 'rgb(1, 2, 3)');
      assert.equal(button.radius, '1.8px', 'buttons round at 0.6 × --plugboard-radius');
    } finally {
      await page.close();
    }
  });

  test('the hosted page moves focus to each step heading', async () => {
    const { auth_link_url } = await session({ origin_owner_id: 'focus-1', categories: ['hris', 'crm'] });
    const page = await browser.newPage();
    try {
      const link = new URL(auth_link_url);
      await page.goto(`${server.url}${link.pathname}${link.search}`);
      const focused = () =>
        page
          .locator('plugboard-hub')
          .evaluate((host) => (host.shadowRoot as any).activeElement?.textContent ?? null);
      await page.getByRole('heading', { name: 'Connect an account' }).waitFor();
      assert.equal(await focused(), 'Connect an account');
      await page.keyboard.press('Tab');
      await page.keyboard.type('bamboo');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Connect BambooHR' }).waitFor();
      assert.equal(await focused(), 'Connect BambooHR');
    } finally {
      await page.close();
    }
  });

  test('a dead link says so, and Close fires the close event', async () => {
    const page = await open(embedder.url, '/dead', elementPage('not-a-real-token'));
    try {
      await page.getByRole('alert').filter({ hasText: 'This link has expired' }).waitFor();
      await page.getByRole('button', { name: 'Close' }).click();
      assert.deepEqual(await page.evaluate(() => (globalThis as any).events), [
        { type: 'close', detail: null },
      ]);
    } finally {
      await page.close();
    }
  });

  test('an OAuth provider offers sign-in at the provider, in a new window', async () => {
    const { token } = await session({ origin_owner_id: 'oauth-1', provider: 'hubspot' });
    const page = await open(embedder.url, '/oauth', elementPage(token));
    try {
      const button = page.getByRole('button', { name: 'Connect with HubSpot' });
      await button.waitFor();
      assert.equal(await button.isEnabled(), true);
      await page.getByText('Sign-in with HubSpot opens in a new window.').waitFor();
    } finally {
      await page.close();
    }
  });
});
