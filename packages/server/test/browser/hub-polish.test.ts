import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { startEmbedder } from '../support/embedder.ts';
import { call, freePort, startTestServer, type TestServer } from '../support/server.ts';

const available = chromiumAvailable();

/**
 * Every element of the hub's shadow tree whose text does not fit: boxes wider than the viewport,
 * content wider than its box, placeholders and selected options wider than their control.
 */
async function clippedText(page: Page): Promise<string[]> {
  // A string, not a function: the test's TypeScript transform would add helpers the page lacks.
  return page.evaluate(CLIPPED_TEXT);
}

const CLIPPED_TEXT = `(() => {
  const root = document.querySelector('plugboard-hub')?.shadowRoot;
  if (!root) return ['no hub on the page'];
  const measure = document.createElement('canvas').getContext('2d');
  const describe = (el) =>
    '<' + el.tagName.toLowerCase() + (el.className ? ' class="' + el.className + '"' : '') + '> "' +
    (el.textContent || el.placeholder || '').trim().slice(0, 40) + '"';
  const problems = [];
  for (const el of root.querySelectorAll('*')) {
    if (el.closest('.sr-only') || el.tagName === 'STYLE' || el.tagName === 'OPTION') continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.display === 'none' || box.width === 0) continue;
    if (box.left < -0.5 || box.right > window.innerWidth + 0.5) problems.push(describe(el) + ' leaves the viewport');
    if (el.scrollWidth > el.clientWidth + 1) problems.push(describe(el) + ' overflows its box');
    const inner = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    measure.font = style.fontWeight + ' ' + style.fontSize + ' ' + style.fontFamily;
    if ((el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) && el.placeholder && !el.value) {
      // A search box keeps room for its clear button.
      const reserved = el.type === 'search' ? 16 : 0;
      if (measure.measureText(el.placeholder).width > inner - reserved) problems.push(describe(el) + ' placeholder cut');
    }
    if (el instanceof HTMLSelectElement) {
      const text = el.selectedOptions[0]?.textContent ?? '';
      // The drop-down arrow takes about 20 px of the inner width.
      if (measure.measureText(text).width > inner - 20) problems.push(describe(el) + ' selected option cut');
    }
  }
  return problems;
})()`;

/** Plugboard's hub in Chromium: requests per open, texts in the hub's language, errors, Close, small screens. */
describe('hub polish in Chromium', { skip: available === true ? false : available }, () => {
  const pages: Parameters<typeof startEmbedder>[0] = {};
  let embedder: Awaited<ReturnType<typeof startEmbedder>>;
  let server: TestServer;
  let browser: Browser;
  let key: string;
  let deadPort: number;

  before(async () => {
    embedder = await startEmbedder(pages);
    pages['/back'] = {
      type: 'text/html; charset=utf-8',
      body: '<!doctype html><title>Back home</title><h1>Back home</h1>',
    };
    pages['/start'] = { type: 'text/html; charset=utf-8', body: '<!doctype html><title>Start</title>' };
    server = await startTestServer('pglite', {
      PLUGBOARD_PROVIDER_ALLOWED_RANGES: 'loopback',
      PLUGBOARD_HUB_ALLOWED_ORIGINS: embedder.url,
    });
    key = (await server.newProject()).api_key;
    // Nothing listens on this port: connecting to "BambooHR" fails like a DNS or network failure.
    deadPort = await freePort();
    await call(server, 'POST', '/auth_configs', {
      key,
      body: {
        connector_key: 'bamboohr',
        urls: { api_base_url: `http://127.0.0.1:${deadPort}/{{subdomain}}` },
      },
    });
    for (const connector of ['greenhouse', 'jira', 'salesforce'])
      await call(server, 'POST', '/auth_configs', { key, body: { connector_key: connector } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await embedder?.close();
  });

  const link = async (body: Record<string, unknown> = {}) => {
    const res = await call(server, 'POST', '/connect_sessions', {
      key,
      body: { origin_owner_id: `polish-${Math.random()}`, origin_owner_name: 'Polish Co', ...body },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { token: string; auth_link_url: string };
  };

  test('one request each for settings and connectors per open, hosted or embedded', async () => {
    const { auth_link_url, token } = await link();
    const page = await browser.newPage();
    const counted: string[] = [];
    page.on('request', (r) => {
      if (r.method() !== 'OPTIONS' && r.url().includes('/hub/')) counted.push(new URL(r.url()).pathname);
    });
    try {
      await page.goto(`${auth_link_url}&lang=de&theme=dark`);
      await page.getByRole('heading', { name: 'Konto verbinden' }).waitFor();
      pages['/embed'] = {
        type: 'text/html; charset=utf-8',
        body: `<!doctype html><meta charset="utf-8">
          <plugboard-hub token="${token}" base-url="${server.url}" lang="fr" theme="light" target-origin="${embedder.url}"></plugboard-hub>
          <script type="module" src="${server.url}/embedded/assets/plugboard-hub.js"></script>`,
      };
      await page.goto(`${embedder.url}/embed`);
      await page.getByRole('heading', { name: 'Connecter un compte' }).waitFor();
      // Attributes changed later re-render without fetching again.
      await page.locator('plugboard-hub').evaluate((hub) => hub.setAttribute('theme', 'dark'));
      await page.locator('plugboard-hub[data-theme="dark"]').waitFor();
      // A round trip after the change: any fetch the re-render started has been sent by then.
      await page.getByRole('button', { name: /Greenhouse/ }).click();
      await page.getByRole('heading', { name: 'Connecter Greenhouse' }).waitFor();
      assert.deepEqual(counted.filter((p) => !/\/hub\/connectors\/./.test(p)).sort(), [
        '/hub/connectors',
        '/hub/connectors',
        '/hub/settings',
        '/hub/settings',
      ]);
    } finally {
      await page.close();
    }
  });

  test('a German hub shows the connector form in German', async () => {
    const { auth_link_url } = await link({ provider: 'bamboohr' });
    const page = await browser.newPage();
    try {
      await page.goto(`${auth_link_url}&lang=de`);
      await page.getByRole('heading', { name: 'BambooHR verbinden' }).waitFor();
      await page.getByLabel('Firmen-Subdomain').waitFor();
      await page.getByText('Der Teil vor .bamboohr.com in Ihrer BambooHR-Adresse.').waitFor();
      assert.equal(
        await page.getByLabel(/^API-Schlüssel/).getAttribute('placeholder'),
        'Ihr BambooHR-API-Schlüssel',
      );
    } finally {
      await page.close();
    }
  });

  test('a provider that cannot be reached reads "Could not reach", with the details', async () => {
    const { auth_link_url } = await link({ provider: 'bamboohr' });
    const page = await browser.newPage();
    try {
      await page.goto(`${auth_link_url}&lang=en`);
      await page.getByLabel('Company subdomain').fill('acme');
      await page.getByLabel(/^API key/).fill('any-key-0123456789');
      await page.getByRole('button', { name: 'Connect', exact: true }).click();
      const alert = page.getByRole('alert');
      await alert.getByText('Could not reach BambooHR.').waitFor();
      const text = await alert.innerText();
      assert.match(text, /Details/);
      assert.match(text, /Could not reach 127\.0\.0\.1:\d+/);
      assert.match(text, /ECONNREFUSED/);
      assert.doesNotMatch(text, /BambooHR's answer/);
    } finally {
      await page.close();
    }
  });

  test('Close in a plain tab goes to an allowed return URL, never to another site', async () => {
    const { auth_link_url } = await link({ provider: 'bamboohr', allowed_origins: [embedder.url] });
    const page = await browser.newPage();
    try {
      // Refused return URLs are dropped by the server: the page carries no return-url at all.
      await page.goto(`${auth_link_url}&return_url=${encodeURIComponent('https://elsewhere.example/phish')}`);
      assert.equal(await page.locator('plugboard-hub').getAttribute('return-url'), null);

      await page.goto(`${auth_link_url}&return_url=${encodeURIComponent(`${embedder.url}/back`)}`);
      await page.getByLabel('Company subdomain').fill('acme');
      await page.getByLabel(/^API key/).fill('any-key-0123456789');
      await page.getByRole('button', { name: 'Connect', exact: true }).click();
      await page.getByText('Could not reach BambooHR.').waitFor();
      await page.getByRole('button', { name: 'Close' }).click();
      await page.waitForURL(`${embedder.url}/back`);
      assert.equal(await page.title(), 'Back home');
    } finally {
      await page.close();
    }
  });

  test('Close in a plain tab without a return URL says the window can be closed', async () => {
    const { auth_link_url } = await link({ provider: 'bamboohr' });
    const page = await browser.newPage();
    try {
      // A tab with history: browsers refuse window.close() there, so the hub has to say it.
      await page.goto(`${embedder.url}/start`);
      await page.goto(`${auth_link_url}&lang=es`);
      await page.getByLabel('Subdominio de la empresa').fill('acme');
      await page.getByLabel(/^Clave de API/).fill('any-key-0123456789');
      await page.getByRole('button', { name: 'Conectar', exact: true }).click();
      await page.getByText('No se pudo contactar con BambooHR.').waitFor();
      await page.getByRole('button', { name: 'Cerrar' }).click();
      await page.getByRole('heading', { name: 'Ya puede cerrar esta ventana.' }).waitFor();
      assert.ok(page.url().startsWith(server.url), 'the page stayed');
    } finally {
      await page.close();
    }
  });

  test('no clipped text at 360 px, in every language, on the list, the form and an error', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
    try {
      for (const lang of ['en', 'de', 'fr', 'es']) {
        const list = await link();
        await page.goto(`${list.auth_link_url}&lang=${lang}`);
        await page.locator('plugboard-hub').locator('ul.providers').waitFor();
        assert.deepEqual(await clippedText(page), [], `${lang} list`);
        if (lang === 'de') await page.screenshot({ path: path.join(ARTIFACTS, 'hub-360-de-list.png') });

        const form = await link({ provider: 'jira' });
        await page.goto(`${form.auth_link_url}&lang=${lang}`);
        await page.locator('plugboard-hub').locator('form').waitFor();
        assert.deepEqual(await clippedText(page), [], `${lang} form`);
      }
      const failing = await link({ provider: 'bamboohr' });
      await page.goto(`${failing.auth_link_url}&lang=fr`);
      await page.getByLabel("Sous-domaine de l'entreprise").fill('acme');
      await page.getByLabel(/^Clé API/).fill('any-key-0123456789');
      await page.getByRole('button', { name: 'Connecter', exact: true }).click();
      await page.getByText('Impossible de joindre BambooHR.').waitFor();
      assert.deepEqual(await clippedText(page), [], 'fr error');
    } finally {
      await page.close();
    }
  });
});
