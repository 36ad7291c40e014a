// Regenerates docs/hub-dark-de.png, the README's picture of the hub: the hosted page in German with
// the dark theme, BambooHR's form, in Debian's Chromium. Run `npm run build` first, then
// `node --import tsx scripts/hub-screenshot.ts` in packages/server.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/support/browser.ts';
import { call, startTestServer } from '../test/support/server.ts';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/hub-dark-de.png');
const server = await startTestServer('pglite', { LOG_LEVEL: 'silent' });
const browser = await launchChromium();
try {
  const key = (await server.newProject('Screenshot')).api_key;
  await call(server, 'POST', '/auth_configs', { key, body: { connector_key: 'bamboohr' } });
  const session = await call(server, 'POST', '/connect_sessions', {
    key,
    body: { origin_owner_id: 'customer-42', origin_owner_name: 'Acme GmbH', provider: 'bamboohr' },
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, colorScheme: 'dark' });
  await page.goto(`${session.body.auth_link_url}&lang=de&theme=dark`);
  await page.getByLabel('Firmen-Subdomain').waitFor();
  await page
    .locator('plugboard-hub img')
    .first()
    .evaluate((img) => (img as { decode(): Promise<void> }).decode());
  await page.screenshot({ path: target });
  console.log(`wrote ${target}`);
} finally {
  await browser.close();
  await server.close();
}
