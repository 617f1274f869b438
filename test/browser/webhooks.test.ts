import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { ADMIN_PASSWORD, expectStatus } from '../harness.js';
import { WebhookReceiver } from '../webhook-receiver.js';
import { describeInBrowser, signIn } from './browser-harness.js';

describeInBrowser(
  'webhooks in the browser',
  (env) => {
    const { h } = env;
    const rx = new WebhookReceiver();
    beforeAll(() => rx.start());
    afterAll(async () => {
      if (rx.url) await rx.stop();
    });

    it('creates a webhook in My Preferences, sends a test event, shows its attempts; the admin sees and switches it off', async () => {
      const user = await h.createUser({ firstName: 'Wanda', lastName: 'Webhook' });
      expectStatus(
        await h.request({
          method: 'PUT',
          url: `/api/v1/users/${user.id}/api-access`,
          as: h.admin,
          payload: { enabled: true },
        }),
        200,
      );
      const page = await env.open();
      await signIn(page, user.username, user.password);
      await page.getByTestId('user-menu').click();
      await page.getByRole('menuitem', { name: 'My Preferences' }).click();
      await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor({ timeout: 30_000 });
      await page.getByTestId('my-webhooks-empty').waitFor();
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const form = page.getByRole('dialog', { name: 'Add webhook' });
      await form.getByLabel('URL').fill(`${rx.url}/rapport`);
      await form.getByLabel('Entity').first().click();
      await page.getByRole('option', { name: 'Contacts' }).click();
      await form.getByLabel('Description').fill('Sync to the warehouse');
      await form.getByRole('button', { name: 'Add webhook' }).click();
      const secretDialog = page.getByRole('dialog', { name: 'Signing secret' });
      const secret = ((await secretDialog.getByTestId('webhook-secret').textContent()) ?? '').trim();
      expect(secret).toMatch(/^whsec_/);
      await env.shot(page, 'webhook-secret');
      await secretDialog
        .getByRole('button', { name: 'Close' })
        .click()
        .catch(() => page.keyboard.press('Escape'));
      const table = page.getByRole('table', { name: 'Webhooks' });
      await table.getByText(`${rx.url}/rapport`).waitFor();
      await table.getByRole('button', { name: 'Send test event' }).click();
      await page.getByText('Test event sent').waitFor();
      await rx.waitFor(1);
      const got = rx.received[0]!;
      expect((new Webhook(secret).verify(got.body, got.headers) as { type: string }).type).toBe(
        'webhook.test',
      );
      await table.getByRole('button', { name: 'Attempts' }).click();
      const log = page.getByRole('dialog', { name: `Messages of ${rx.url}/rapport` });
      const messages = log.getByRole('table', { name: 'Webhook messages' });
      await messages.getByText('webhook.test').waitFor();
      await expect
        .poll(async () => {
          await log.getByRole('button', { name: 'Refresh' }).click();
          return messages.getByText('delivered').count();
        })
        .toBe(1);
      await messages.getByRole('button', { name: 'Attempts' }).click();
      await log
        .getByTestId('attempt-log')
        .getByText(/HTTP 200 in \d+ ms/)
        .waitFor();
      await env.shot(page, 'webhook-attempts');
      // a message that ran out of attempts is sent again by "Recover failed", with the same webhook-id
      await h.ctx.db.kysely
        .updateTable('webhook_deliveries')
        .set({ status: 'failed', finished_at: h.clock.now() })
        .where('msg_id', '=', got.headers['webhook-id']!)
        .execute();
      await log.getByLabel('Recover failed messages of').click();
      await page.getByRole('option', { name: 'last hour' }).click();
      await log.getByRole('button', { name: 'Recover failed' }).click();
      await page.getByText('1 failed message(s) of the last hour are sent again.').waitFor();
      await rx.waitFor(2);
      expect(rx.received[1]!.headers['webhook-id']).toBe(got.headers['webhook-id']);
      await page.keyboard.press('Escape');

      // the admin: Settings → API Management → the user
      const admin = await env.open();
      await signIn(admin, 'admin', ADMIN_PASSWORD);
      await admin.getByRole('link', { name: 'API Management' }).click();
      await admin
        .getByRole('table', { name: 'Users with API access' })
        .getByRole('link', { name: 'Wanda Webhook' })
        .click();
      await admin.getByRole('heading', { name: 'Webhooks of Wanda Webhook' }).waitFor();
      const hooks = admin.getByRole('table', { name: 'Webhooks' });
      for (const header of ['URL', 'Entity', 'Operation Type', 'Status'])
        await hooks.getByRole('columnheader', { name: header }).waitFor();
      const row = hooks.getByRole('row').filter({ hasText: `${rx.url}/rapport` });
      await row.getByText('Contacts').waitFor();
      await row.getByText('Create, Update, Delete').waitFor();
      await row.getByText('Active').waitFor();
      await row.getByRole('switch').click({ force: true });
      await row.getByText('Inactive').waitFor();
      await env.shot(admin, 'api-management-webhooks');
      const list = await h.request({ method: 'GET', url: `/api/v1/users/${user.id}/webhooks`, as: h.admin });
      expect(list.json().items[0]).toMatchObject({ enabled: false, status: 'Inactive' });
    }, 120_000);
  },
  { webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'] } },
);
