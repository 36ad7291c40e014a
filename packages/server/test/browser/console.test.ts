import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createOperator } from '../../src/services/console/operators.ts';
import { chromiumAvailable, launchChromium } from '../support/browser.ts';
import { call, startTestServer, type TestServer } from '../support/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { WEBHOOK_ENV } from '../support/webhooks.ts';

const available = chromiumAvailable();
/** Screenshots of the main views, referenced from the README. */
const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs');
const NEW_PASSWORD = 'operator passphrase 2026';

/** The operator console, driven end to end in Chromium against a real server (its sandbox provider) and receiver. */
describe('operator console in Chromium', { skip: available === true ? false : available }, () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let projectId: string;
  let organizationId: number;
  let operator: { email: string; password: string };

  before(async () => {
    receiver = await startWebhookReceiver();
    server = await startTestServer(
      'pglite',
      {
        ...WEBHOOK_ENV,
        LOG_LEVEL: 'silent',
        // The built-in sandbox provider is answered in-process: the outbound guard stays closed.
        PLUGBOARD_PROVIDER_ALLOWED_RANGES: '',
        PLUGBOARD_CONSOLE_MAX_FAILED_SIGN_INS: '3',
      },
      { webhooks: true },
    );
    ({ project_id: projectId, organization_id: organizationId } = await server.newProject('Acme production'));
    const created = await createOperator(server.database.db, { email: 'ops@acme.test' });
    operator = { email: 'ops@acme.test', password: created.password };
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.close();
  });

  const shot = (name: string) =>
    page.screenshot({ path: path.join(DOCS, `console-${name}.png`), fullPage: true });
  const nav = (name: string) =>
    page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name });
  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name }).waitFor();

  async function signIn(p: Page, email: string, password: string) {
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password', { exact: true }).fill(password);
    await p.getByRole('button', { name: 'Sign in' }).click();
  }

  test('a deep link asks a signed-out operator to sign in; the one-time password must be changed', async () => {
    await page.goto(`${server.url}/console/p/${projectId}/integrations`);
    await heading('Sign in to Plugboard');
    await shot('sign-in');
    await signIn(page, operator.email, operator.password);
    await heading('Change your password');
    await page.getByLabel('Current password').fill(operator.password);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await heading('Projects and API keys');
    operator.password = NEW_PASSWORD;
  });

  test('enable the sandbox integration from the catalogue', async () => {
    await page.goto(`${server.url}/console/p/${projectId}/integrations`);
    await heading('Integrations');
    await page.getByRole('searchbox', { name: 'Search connectors' }).fill('sandbox');
    await page.getByRole('button', { name: /^Sandbox(?! \(OAuth\))/ }).click();
    await page.getByRole('button', { name: 'Enable Sandbox' }).click();
    await page.getByRole('button', { name: 'Disable Sandbox' }).waitFor();
    await page.getByRole('searchbox', { name: 'Search connectors' }).fill('');
    await shot('integrations');
    const configs = await call(server, 'GET', `/console/api/projects/${projectId}/auth_configs`);
    assert.equal(
      configs.status,
      401,
      'the console API needs the session cookie, which node fetch does not have',
    );
  });

  test('create a test session, connect through the hub, then find the account and its attempt', async () => {
    await nav('Connect sessions').click();
    await heading('Connect sessions');
    await page.getByLabel('Owner id').fill('cust-7');
    await page.getByLabel('Owner name').fill('Customer Seven');
    await page.getByRole('button', { name: 'Create test session' }).click();
    const [hub] = await Promise.all([
      context.waitForEvent('page'),
      page.getByRole('link', { name: 'Open the hub in a new tab' }).click(),
    ]);
    await hub.getByLabel(/^API key/).waitFor();
    await hub.getByLabel(/^API key/).fill('sandbox-good');
    await hub.getByRole('button', { name: 'Connect', exact: true }).click();
    await hub.getByRole('heading', { name: 'Connected' }).waitFor();
    await hub.close();
    await page.reload();
    await page.getByRole('cell', { name: /Customer Seven/ }).waitFor();
    await shot('sessions');

    // Older accounts fill the first page (50 rows, oldest first): Customer Seven is only reachable by
    // paging on with the cursor, or by the server-side search.
    await seedAccounts(60);
    await nav('Linked accounts').click();
    await heading('Linked accounts');
    await page.getByRole('link', { name: 'Bulk customer 0', exact: true }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Customer Seven' }).count(), 0);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByRole('link', { name: 'Customer Seven' }).waitFor();
    assert.equal(await page.getByRole('link', { name: /^Bulk customer/ }).count(), 60);
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });

    await page.getByLabel('Status').selectOption('error');
    await page.getByText('No account matches these filters.').waitFor();
    await page.getByLabel('Status').selectOption('');
    const searched = page.waitForRequest((r) => /\/accounts\?.*search=EVEN/.test(r.url()));
    await page.getByLabel('Owner id or name').fill('EVEN');
    await searched;
    await page
      .getByRole('link', { name: /^Bulk customer/ })
      .first()
      .waitFor({ state: 'detached' });
    assert.equal(await page.locator('tbody tr').count(), 1, 'only the account whose owner name matches');
    await page.getByRole('link', { name: 'Customer Seven' }).click();
    await heading('Customer Seven');
    await page.getByText('active', { exact: true }).first().waitFor();
    await page.locator('[data-attempt]').getByText('authenticated').waitFor();
    await shot('account');

    await nav('Connection attempts').click();
    await heading('Connection attempts');
    await page.getByLabel('End customer (owner id)').fill('cust-7');
    await page.getByLabel('End customer (owner id)').press('Enter');
    await page.locator('[data-attempt]').getByText('sandbox').waitFor();
    await page.getByLabel('Outcome').selectOption('failed');
    await page.getByText('No attempt matches.').waitFor();
  });

  test('make a webhook endpoint, see its delivery with its try, replay it', async () => {
    await nav('Webhooks').click();
    await heading('Webhooks');
    await page.getByText('No endpoint yet').waitFor();
    await page.getByLabel('Endpoint URL').fill(receiver.url);
    await page.getByLabel('Description').fill('Acme backend');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const secret = await page.getByTestId('secret').innerText();
    assert.match(secret, /^whsec_/);
    await page.getByRole('link', { name: receiver.url }).click();
    await page.getByRole('button', { name: 'Send test event' }).click();
    await receiver.waitFor((r) => r.some((h) => h.json?.event === 'webhook.test'));
    // The receiver answered; the delivery is marked delivered right after (read until it is).
    await waitUntilDelivered(1);
    await page.getByRole('button', { name: 'Reload deliveries' }).click();
    await page.getByRole('button', { name: 'Show tries' }).first().click();
    await page.locator('[data-try="1"]').getByText('HTTP 204').waitFor();
    await shot('webhooks');
    await page.getByRole('button', { name: 'Replay' }).first().click();
    await page.getByText('Replay queued as a new delivery.').waitFor();
    await receiver.waitFor((r) => r.filter((h) => h.json?.event === 'webhook.test').length === 2);
    await waitUntilDelivered(2);
    await page.getByRole('button', { name: 'Reload deliveries' }).click();
    await page.locator('[data-delivery]').nth(1).waitFor();
    assert.equal(await page.locator('[data-delivery]').count(), 2);
  });

  /** Accounts connected before the test started, straight into the database. */
  async function seedAccounts(count: number) {
    const at = (i: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000);
    await server.database.db
      .insertInto('linked_accounts')
      .values(
        Array.from({ length: count }, (_, i) => ({
          id: `acc_bulk_${i}`,
          organization_id: organizationId,
          project_id: projectId,
          provider: 'sandbox',
          origin_owner_id: `bulk-${i}`,
          origin_owner_name: `Bulk customer ${i}`,
          status: 'active',
          type: 'production',
          created_at: at(i),
          updated_at: at(i),
        })),
      )
      .execute();
  }

  async function waitUntilDelivered(count: number) {
    await page.waitForFunction(
      async ([pid, n]) => {
        const res = await fetch(`api/projects/${pid}/webhook_endpoints?page_size=10`);
        const endpoint = ((await res.json()) as { data: Array<{ id: string }> }).data[0]!;
        const list = await fetch(
          `api/projects/${pid}/webhook_endpoints/${endpoint.id}/deliveries?status=succeeded`,
        );
        return ((await list.json()) as { data: unknown[] }).data.length >= n;
      },
      [projectId, count] as const,
      { polling: 100 },
    );
  }

  test('create an API key shown once, then revoke it', async () => {
    await nav('Projects and API keys').click();
    await heading('Projects and API keys');
    await page.getByRole('link', { name: 'API keys' }).first().click();
    await page.getByLabel('Key name').fill('ci');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const key = await page.getByTestId('secret').innerText();
    assert.equal((await call(server, 'GET', '/accounts', { key })).status, 200);
    await shot('projects');
    await page.getByRole('button', { name: 'Revoke key ci' }).click();
    await page.getByRole('row', { name: /ci/ }).getByText('revoked').waitFor();
    assert.equal((await call(server, 'GET', '/accounts', { key })).status, 401);
  });

  test('the audit log shows who changed what; the system view shows keys and the backlog', async () => {
    await nav('Audit log').click();
    await heading('Audit log');
    await page.getByRole('cell', { name: 'integration.created' }).waitFor();
    await page.getByRole('cell', { name: 'api_key.revoked' }).waitFor();
    assert.ok((await page.getByRole('cell', { name: /ops@acme\.test/ }).count()) >= 5);
    await page.getByLabel('Record type').selectOption('webhook_endpoint');
    // The filtered list replaces the full one: other records' entries go, the endpoint's stay.
    await page.getByRole('cell', { name: 'integration.created' }).waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'webhook_endpoint.created' }).waitFor();
    await page.getByLabel('Record type').selectOption('');
    await shot('audit');
    await nav('System').click();
    await heading('System');
    await page.getByText('Current key version').waitFor();
    await page.getByText('Deliveries are picked up on time.').waitFor();
    await shot('system');
    await page.getByLabel('Theme').selectOption('dark');
    await page.screenshot({ path: path.join(DOCS, 'console-system-dark.png') });
    await page.getByLabel('Theme').selectOption('system');
  });

  // ---- Key rotation from the System view (issue 11) ----
  test('rotate the encryption key from the System view, by keyboard, and watch it complete', async () => {
    await nav('System').click();
    await heading('System');
    await page.getByText(/Current key version 1 \(1 in the ring\)/).waitFor();
    const rotate = page.getByRole('button', { name: 'Rotate key' });
    const confirmation = page.getByRole('dialog', { name: 'Rotate the encryption key?' });
    // Escape cancels the confirmation: nothing starts.
    await rotate.focus();
    await page.keyboard.press('Enter');
    await confirmation.waitFor();
    await confirmation.getByText('adds key version 2').waitFor();
    await page.keyboard.press('Escape');
    await confirmation.waitFor({ state: 'hidden' });
    assert.equal(server.vault.currentVersion(), 1);

    await rotate.focus();
    await page.keyboard.press('Enter');
    await confirmation.waitFor();
    assert.equal(
      await page
        .getByRole('button', { name: 'Rotate now' })
        .evaluate((button) => button === button.ownerDocument.activeElement),
      true,
      'the confirmation opens on its action',
    );
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Rotation finished: key version 2 is current').waitFor();
    const accounts = page.getByRole('progressbar', { name: 'Linked accounts re-encrypted' });
    assert.deepEqual(
      await accounts.evaluate((bar) => [(bar as { value: number }).value, (bar as { max: number }).max]),
      [1, 1],
      'the one connected account',
    );
    await page.getByText(/Current key version 2 \(2 in the ring\)/).waitFor();
    assert.equal(await rotate.isEnabled(), true, 'Rotate key is back once the job ended');
    assert.equal(
      await page.getByRole('button', { name: 'Finish rotation' }).count(),
      0,
      'nothing left to finish',
    );
    assert.equal(server.vault.currentVersion(), 2);
  });
  // ---- end of key rotation ----

  test('unsafe requests without the CSRF token are refused', async () => {
    const status = await page.evaluate(async (pid) => {
      const res = await fetch(`api/projects/${pid}/api_keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'forged' }),
      });
      return res.status;
    }, projectId);
    assert.equal(status, 403);
  });

  test('signed out, no console route is reachable', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Sign in to Plugboard');
    const views: Array<[string, string]> = [
      ['projects', 'projects'],
      ['system', 'system'],
      [`p/${projectId}/accounts`, `projects/${projectId}/accounts`],
      [`p/${projectId}/webhooks`, `projects/${projectId}/webhook_endpoints`],
      [`p/${projectId}/audit`, `projects/${projectId}/audit_log`],
    ];
    for (const [view, api] of views) {
      await page.goto(`${server.url}/console/${view}`);
      await heading('Sign in to Plugboard');
      const status = await page.evaluate(async (p) => (await fetch(`api/${p}`)).status, api);
      assert.equal(status, 401, api);
    }
  });

  test('wrong passwords are throttled', async () => {
    for (let i = 0; i < 3; i++) {
      await signIn(page, operator.email, 'not the password');
      await page
        .getByRole('alert')
        .getByText(/Wrong email or password/)
        .waitFor();
    }
    await signIn(page, operator.email, operator.password);
    await page
      .getByRole('alert')
      .getByText(/Too many failed sign-ins/)
      .waitFor();
  });
});
