import fs from 'node:fs';
import { expect, it } from 'vitest';
import { outboxFor } from '../../src/mail/mail.test-helpers.js';
import { ADMIN_PASSWORD, expectStatus } from '../harness.js';
import { describeInBrowser, signIn } from './browser-harness.js';

/** Issue 15's user-lifecycle edges and admin screens, driven as an administrator would. */
describeInBrowser('user lifecycle and admin screens in the browser', (env) => {
  const { h } = env;

  const softDelete = async (id: number, to: number) =>
    expectStatus(
      await h.request({ method: 'DELETE', url: `/api/v1/users/${id}?transferTo=${to}`, as: h.admin }),
      200,
    );

  it('"Show deleted users" lists everyone, the deleted marked; a deleted user opens with Restore and Delete permanently', async () => {
    const gone = await h.createUser({ firstName: 'Della', lastName: 'Deleted' });
    const kept = await h.createUser({ firstName: 'Kurt', lastName: 'Kept' });
    await softDelete(gone.id, kept.id);
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/users');
    await page.getByRole('link', { name: 'Kurt Kept' }).waitFor();
    await expect(page.getByRole('link', { name: 'Della Deleted' }).count()).resolves.toBe(0);
    await page.getByRole('switch', { name: 'Show deleted users' }).click({ force: true });
    const row = page.getByRole('row', { name: /Della Deleted/ });
    await row.getByText('Deleted', { exact: true }).waitFor();
    // everyone stays listed: the switch widens the list
    await page.getByRole('link', { name: 'Kurt Kept' }).waitFor();
    await env.shot(page, 'users-with-deleted');

    await page.getByRole('link', { name: 'Della Deleted' }).click();
    const banner = page.getByTestId('deleted-user-banner');
    await banner.waitFor();
    await env.shot(page, 'deleted-user-page');
    await banner.getByRole('button', { name: 'Restore' }).click();
    await page
      .getByRole('dialog', { name: 'Restore Della Deleted?' })
      .getByRole('button', { name: 'Restore user' })
      .click();
    await page.getByText('Della Deleted was restored').waitFor();
    await expect.poll(() => banner.count()).toBe(0);
    // the restored user has no key and API access off: the page says so and offers to turn it on
    const noKey = page.getByTestId('no-access-key');
    await noKey.getByText('No access key, and API access is off').waitFor();
    await env.shot(page, 'restored-user-no-key');
    await noKey.getByRole('button', { name: 'Turn on API access' }).click();
    await page.getByText('API access turned on').waitFor();
    await page.getByTestId('access-key-value').waitFor();
    await page.getByRole('button', { name: 'Regenerate access key' }).waitFor();
    const key = await h.request({ method: 'GET', url: `/api/v1/users/${gone.id}/access-key`, as: h.admin });
    expect(key.json()).toMatchObject({ apiAccess: true, hasKey: true });
    expect((await h.login(gone.username, gone.password)).userId).toBe(gone.id);
  });

  it('deletes a deleted user permanently after typing the username; the username is free again', async () => {
    const gone = await h.createUser({ firstName: 'Pia', lastName: 'Purged' });
    const kept = await h.createUser({ firstName: 'Rory', lastName: 'Receiver' });
    await softDelete(gone.id, kept.id);
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`/settings/users/${gone.id}`);
    await page.getByTestId('deleted-user-banner').getByRole('button', { name: 'Delete permanently' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Pia Purged permanently?' });
    const confirm = dialog.getByRole('button', { name: 'Delete permanently' });
    // nothing irreversible happens until the username is typed
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await dialog.getByLabel(`Type the username ${gone.username} to confirm`).fill(gone.username.slice(0, 3));
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await dialog.getByLabel(`Type the username ${gone.username} to confirm`).fill(gone.username);
    await expect(confirm.isEnabled()).resolves.toBe(true);
    await env.shot(page, 'purge-user-dialog');
    await dialog.getByRole('button', { name: 'Delete permanently' }).click();
    await page.getByText('Pia Purged was deleted permanently').waitFor();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    const res = await h.request({ method: 'GET', url: `/api/v1/users/${gone.id}`, as: h.admin });
    expectStatus(res, 404);
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.deleted_permanently&targetId=${gone.id}`,
      as: h.admin,
    });
    expect(audit.json().items).toHaveLength(1);
  });

  it('sends and resends a verification email from the user page', async () => {
    const u = await h.createUser({ firstName: 'Vic', lastName: 'Verify' });
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`/settings/users/${u.id}`);
    await page.getByText('Not verified').waitFor();
    const outbox = async () => (await outboxFor(h, `${u.username}@example.com`)).length;
    const before = await outbox();
    await page.getByRole('button', { name: 'Send verification email' }).click();
    await page.getByText('Verification email sent').waitFor();
    await page.getByRole('button', { name: 'Resend verification email' }).waitFor();
    await env.shot(page, 'verification-sent');
    expect(await outbox()).toBe(before + 1);
    // the server limits links per hour; the page shows its words in place
    env.allowHttpError('/verification-email');
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Resend verification email' }).click();
    await page.getByText(/verification links were sent to this user in the last hour/).waitFor();
    await env.shot(page, 'verification-limited');
  });

  it('the admin changes their own placeholder address and sends themselves a verification link', async () => {
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/preferences');
    const panel = page.getByRole('region', { name: 'Email address' });
    const me = await h.request({ method: 'GET', url: '/api/v1/users/me', as: h.admin });
    const original = me.json().email as string;
    await panel.getByLabel(/^Your email address/).fill('owner@example.org');
    await env.shot(page, 'my-email');
    await panel.getByRole('button', { name: 'Change email' }).click();
    await page.getByText('Email address changed').waitFor();
    await panel.getByText('Not verified').waitFor();
    await panel.getByRole('button', { name: 'Send verification email' }).click();
    await page.getByText('Verification email sent').waitFor();
    await env.shot(page, 'my-email-verification-sent');
    expect((await outboxFor(h, 'owner@example.org')).length).toBeGreaterThanOrEqual(2);
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: '/api/v1/users/me',
        as: h.admin,
        payload: { email: original.includes('@localhost') ? 'admin@example.com' : original },
      }),
      200,
    );
  });

  it('the currency picker offers only ISO 4217 currencies', async () => {
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/company');
    const input = page.getByLabel(/^Default currency/).first();
    // "DOL" finds the dollars by name but is no code: only real currencies can be picked
    await input.fill('DOL');
    await page.getByRole('option', { name: /^USD — US Dollar/ }).waitFor();
    await expect(page.getByRole('option', { name: /^DOL/ }).count()).resolves.toBe(0);
    await input.fill('QQQ');
    await page.getByText('No currency has that code or name').waitFor();
    await env.shot(page, 'currency-junk');
    await input.fill('swiss');
    await page.getByRole('option', { name: /^CHF — Swiss Franc/ }).click();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('The settings are saved.').waitFor();
    const res = await h.request({ method: 'GET', url: '/api/v1/settings', as: h.admin });
    expect(res.json().defaultCurrency).toBe('CHF');
    expectStatus(
      await h.request({
        method: 'PUT',
        url: '/api/v1/settings',
        as: h.admin,
        payload: { defaultCurrency: 'USD' },
      }),
      200,
    );
  });

  it('the audit log names people, shows "X as Y", reads its details, filters by user and date, and exports CSV', async () => {
    const owner = await h.login('admin', ADMIN_PASSWORD);
    const u = await h.createUser({ firstName: 'Ian', lastName: 'Impersonated' });
    expectStatus(
      await h.request({ method: 'POST', url: `/api/v1/users/${u.id}/impersonate`, as: owner }),
      200,
    );
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: '/api/v1/users/me',
        as: owner,
        payload: { lastName: 'Acted' },
      }),
      200,
    );
    expectStatus(await h.request({ method: 'POST', url: '/api/v1/auth/stop-impersonating', as: owner }), 200);
    const adminName = (await h.request({ method: 'GET', url: '/api/v1/users/me', as: h.admin })).json();
    const who = `${adminName.firstName} ${adminName.lastName}`.trim() || 'admin';

    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/audit');
    const table = page.getByRole('table', { name: 'Audit entries' });
    await table.getByText('Changed a user').first().waitFor();
    const row = table.getByRole('row', { name: /Changed a user/ }).first();
    await row.getByText(`${who} as Ian Acted`).waitFor();
    await row.getByText('Last name:').waitFor();
    await row.getByText('Impersonated → Acted').waitFor();
    await expect(table.getByText(/user \d+/).count()).resolves.toBe(0);
    await expect(table.getByText('{"').count()).resolves.toBe(0);
    await env.shot(page, 'audit-readable');

    const userFilter = page.getByLabel('User', { exact: true }).first();
    await userFilter.fill('Ian');
    await page.getByRole('option', { name: /Ian Acted/ }).click();
    // Ian changed nothing himself: the change was made by the administrator logged in as him
    await expect.poll(() => table.getByText('Changed a user').count()).toBe(0);
    await env.shot(page, 'audit-by-user');
    await userFilter.fill(who);
    await page
      .getByRole('option', { name: new RegExp(`^${who}`) })
      .first()
      .click();
    await table.getByText(`${who} as Ian Acted`).first().waitFor();

    const today = new Date().toISOString().slice(0, 10);
    // a backwards range says so next to the field, and the message goes once the range is fixed
    await page.getByLabel('From').fill('2000-01-05');
    await page.getByLabel('To (inclusive)').fill('2000-01-02');
    await page.getByText('Before the start date').waitFor();
    await env.shot(page, 'audit-range-backwards');
    await page.getByLabel('From').fill('2000-01-01');
    await page.getByText('No entries match these filters.').waitFor();
    await expect(page.getByText('Before the start date').count()).resolves.toBe(0);
    await page.getByLabel('To (inclusive)').fill(today);
    await table.getByText('Changed a user').first().waitFor();
    await env.shot(page, 'audit-filtered');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^audit-log-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toBe('When,Who,Logged in as,Action,Outcome,Target,Details,IP,Request ID');
    expect(csv).toContain('Ian Acted');
    const exported = await h.request({
      method: 'GET',
      url: '/api/v1/audit?action=audit.exported',
      as: h.admin,
    });
    expect(exported.json().items[0].details.filters.from).toEqual(expect.any(String));
  });
});
