import { expect, it, type TestContext } from 'vitest';
import { outboxFor } from '../../src/mail/mail.test-helpers.js';
import { ADMIN_PASSWORD, expectStatus, type Harness } from '../harness.js';
import { describeInBrowser, hasRoute, signIn } from './browser-harness.js';

/** User administration lands on main separately; until then these click paths have nothing to drive. */
/** The screens under test need their API; a missing route is a failure, never a silent skip. */
function need(h: Harness, _t: TestContext, method: string, url: string): void {
  if (!hasRoute(h, method, url)) throw new Error(`${method} ${url} is missing`);
}

async function loginStatus(h: Harness, username: string, password: string): Promise<number> {
  const res = await h.request({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
  return res.statusCode;
}

describeInBrowser('user administration in the browser', (env) => {
  const { h } = env;

  it('marks the account owner in the users list and on their page, and no other administrator', async () => {
    const other = await h.createUser({ firstName: 'Otto', lastName: 'Otheradmin', isAdmin: true });
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/users');
    const ownerRow = page
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: 'admin', exact: true }) });
    await ownerRow.getByTestId('owner-badge').waitFor();
    const otherRow = page.getByRole('row').filter({ hasText: other.username });
    await otherRow.getByText('Admin', { exact: true }).waitFor();
    await expect(otherRow.getByTestId('owner-badge').count()).resolves.toBe(0);
    await expect(page.getByTestId('owner-badge').count()).resolves.toBe(1);
    await env.shot(page, 'users-owner-badge');
    await page.goto(`/settings/users/${h.admin.userId}`);
    await page.getByText('Account owner', { exact: true }).waitFor();
  });

  it('changes my password with the current one', async (t) => {
    need(h, t, 'POST', '/api/v1/users/:id/password');
    const user = await h.createUser({ firstName: 'Paula', lastName: 'Password' });
    const page = await env.open();
    await signIn(page, user.username, user.password);
    await page.goto('/settings/preferences');
    await page.getByLabel(/^Current password/).fill(user.password);
    await page.getByLabel(/^New password/).fill('a brand new passphrase 7');
    await page.getByLabel(/^Repeat the new password/).fill('a brand new passphrase 7');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed').waitFor();
    await env.shot(page, 'password-changed');
    expect(await loginStatus(h, user.username, 'a brand new passphrase 7')).toBe(200);
    expect(await loginStatus(h, user.username, user.password)).toBe(401);
  });

  it("admin changes another user's password; their session ends", async (t) => {
    need(h, t, 'POST', '/api/v1/users/:id/password');
    const user = await h.createUser({ firstName: 'Sid', lastName: 'Signedout' });
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`/settings/users/${user.id}`);
    await page.getByRole('button', { name: 'More' }).click();
    await page.getByRole('menuitem', { name: 'Change Password' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change the password of Sid Signedout' });
    await dialog.getByLabel(/^New password/).fill('set by the administrator 9');
    await env.shot(page, 'admin-password-dialog');
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed').waitFor();
    const old = await h.request({ method: 'GET', url: '/api/v1/me', as: user.session });
    expect(old.statusCode).toBe(401);
    expect(await loginStatus(h, user.username, 'set by the administrator 9')).toBe(200);
  });

  it('logs in as a user, with a banner on every page, and stops', async (t) => {
    need(h, t, 'POST', '/api/v1/users/:id/impersonate');
    const user = await h.createUser({ firstName: 'Ivy', lastName: 'Impersonated' });
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`/settings/users/${user.id}`);
    await page.getByRole('button', { name: 'More' }).click();
    await page.getByRole('menuitem', { name: `Log in as ${user.username}` }).click();
    await page
      .getByRole('dialog', { name: 'Log in as Ivy Impersonated?' })
      .getByRole('button', { name: `Log in as ${user.username}` })
      .click();
    const banner = page.getByTestId('impersonation-banner');
    await banner.getByText('Ivy Impersonated').first().waitFor();
    await expect(banner.textContent()).resolves.toContain('admin');
    await env.shot(page, 'impersonating-settings');
    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'My Preferences' }).click();
    await page.getByText('Not while logged in as someone else').waitFor();
    await expect(banner.isVisible()).resolves.toBe(true);
    await env.shot(page, 'impersonating-preferences');
    await banner.getByRole('button', { name: /^Stop/ }).click();
    await page.getByRole('heading', { name: 'Ivy Impersonated', level: 1 }).waitFor();
    await expect(banner.count()).resolves.toBe(0);
    const me = await page.request.get('/api/v1/me');
    expect(((await me.json()) as { user: { username: string } }).user.username).toBe('admin');
  });

  it('deletes a user, transferring their records, and restores them', async (t) => {
    need(h, t, 'DELETE', '/api/v1/users/:id');
    const leaver = await h.createUser({ firstName: 'Leo', lastName: 'Leaver' });
    await h.createUser({ firstName: 'Rae', lastName: 'Receiver' });
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`/settings/users/${leaver.id}`);
    await page.getByRole('button', { name: 'More' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Leo Leaver?' });
    await dialog
      .getByLabel(/^Transfer their records to/)
      .first()
      .click();
    await page.getByRole('option', { name: /Rae Receiver/ }).click();
    await env.shot(page, 'delete-user-dialog');
    await dialog.getByRole('button', { name: 'Delete user' }).click();
    await page.getByText('Leo Leaver was deleted').waitFor();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await expect.poll(() => page.getByRole('link', { name: 'Leo Leaver' }).count()).toBe(0);
    expect(await loginStatus(h, leaver.username, leaver.password)).toBe(401);

    need(h, t, 'POST', '/api/v1/users/:id/restore');
    await page.getByRole('switch', { name: 'Show deleted users' }).click({ force: true });
    await page.getByRole('button', { name: 'Restore Leo Leaver' }).click();
    await env.shot(page, 'restore-user-dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Restore user' }).click();
    await page.getByRole('switch', { name: 'Show deleted users' }).click({ force: true });
    await page.getByRole('link', { name: 'Leo Leaver' }).waitFor();
  });

  it('tracks the setup checklist and shows the mail outbox', async (t) => {
    need(h, t, 'GET', '/api/v1/setup-checklist');
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Setup checklist' }).click();
    const first = page.locator('section').first();
    await first.getByLabel('Status').first().click();
    await page.getByRole('option', { name: 'Done' }).click();
    await first.getByLabel('Notes').fill('The sales team of Berlin pilots.');
    await first.getByRole('button', { name: 'Save' }).click();
    await page.getByText('1 of 5 steps done or skipped').waitFor();
    await env.shot(page, 'setup-checklist');

    need(h, t, 'GET', '/api/v1/mail/outbox');
    await h.createUser({ firstName: 'Mia', lastName: 'Mailed' });
    await page.goto('/settings/outbox');
    await page.getByRole('table', { name: 'Outgoing mail' }).waitFor();
    await env.shot(page, 'outbox');
  });

  it('changes the company settings', async (t) => {
    need(h, t, 'PUT', '/api/v1/settings');
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Company settings' }).click();
    await page.getByLabel('Company name').fill('Acme Widgets Ltd');
    await page
      .getByLabel(/^Default currency/)
      .first()
      .fill('eur');
    await page.getByRole('option', { name: /^EUR — Euro/ }).click();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('The settings are saved.').waitFor();
    await env.shot(page, 'company-settings');
    const res = await h.request({ method: 'GET', url: '/api/v1/settings', as: h.admin });
    expect(res.json()).toMatchObject({ company: { name: 'Acme Widgets Ltd' }, defaultCurrency: 'EUR' });
  });

  it('resets a forgotten password and verifies an email address through the emailed links', async (t) => {
    need(h, t, 'POST', '/api/v1/auth/reset-password');
    const user = await h.createUser({ firstName: 'Fay', lastName: 'Forgetful' });
    // the mail queue writes the outbox after the request's commit, in the background: `outboxFor` drains it
    // first (on a loaded machine the page's answer came before the reset mail reached the outbox)
    const tokenFrom = async (to: string, subject: RegExp): Promise<string> => {
      const mails = await outboxFor(h, to);
      const mail = mails.find((m) => subject.test(m.subject));
      const token = /token=([^\s&]+)/.exec(mail?.text ?? '')?.[1];
      if (!token) throw new Error(`no ${subject} mail to ${to}: ${JSON.stringify(mails)}`);
      return decodeURIComponent(token);
    };

    const page = await env.open();
    await page.goto(
      `/verify-email?token=${encodeURIComponent(await tokenFrom(`${user.username}@example.com`, /verify/i))}`,
    );
    await page.getByText('Email address verified').waitFor();
    await env.shot(page, 'email-verified');

    await page.goto('/login');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    // the sign-in form has a Username field too: fill the new page's, once it is there
    await page.getByRole('button', { name: 'Send me a link' }).waitFor();
    await page.getByLabel(/^Username/).fill(user.username);
    await page.getByLabel(/^Email/).fill(`${user.username}@example.com`);
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByRole('status').getByText('If an account matches').waitFor();
    await env.shot(page, 'forgot-password-sent');

    const token = await tokenFrom(`${user.username}@example.com`, /password/i);
    await page.goto(`/reset-password?token=${encodeURIComponent(token)}`);
    await page.getByLabel(/^New password/).fill('chosen after forgetting 3');
    await page.getByLabel(/^Repeat the new password/).fill('chosen after forgetting 3');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed').waitFor();
    await env.shot(page, 'password-reset');
    expect(await loginStatus(h, user.username, 'chosen after forgetting 3')).toBe(200);
  });

  it('asks a user for consent before logging in as them, when the CRM requires it', async (t) => {
    need(h, t, 'POST', '/api/v1/users/:id/impersonation-requests');
    const setConsent = (on: boolean) =>
      h.request({
        method: 'PUT',
        url: '/api/v1/settings',
        as: h.admin,
        payload: { impersonation: { requireConsent: on } },
      });
    expectStatus(await setConsent(true), 200);
    try {
      const user = await h.createUser({ firstName: 'Cora', lastName: 'Consent' });
      const admin = await env.open();
      env.allowHttpError('/impersonate');
      await signIn(admin, 'admin', ADMIN_PASSWORD);
      await admin.goto(`/settings/users/${user.id}`);
      await admin.getByRole('button', { name: 'More' }).click();
      await admin.getByRole('menuitem', { name: `Log in as ${user.username}` }).click();
      await admin
        .getByRole('dialog')
        .getByRole('button', { name: `Log in as ${user.username}` })
        .click();
      const ask = admin.getByRole('dialog', { name: 'Ask Cora Consent for consent' });
      await ask.getByLabel(/^Why do you need/).fill('Set up her mail rules');
      await env.shot(admin, 'consent-request');
      await ask.getByRole('button', { name: 'Send request' }).click();
      await admin.getByText('Request sent').waitFor();

      const res = await h.request({ method: 'GET', url: '/api/v1/impersonation-requests', as: user.session });
      const id = (res.json() as { items: Array<{ id: number }> }).items[0]!.id;
      const approve = await h.request({
        method: 'POST',
        url: `/api/v1/impersonation-requests/${id}/approve`,
        as: user.session,
      });
      expectStatus(approve, 200);

      await admin.getByRole('button', { name: 'More' }).click();
      await admin.getByRole('menuitem', { name: `Log in as ${user.username}` }).click();
      await admin
        .getByRole('dialog')
        .getByRole('button', { name: `Log in as ${user.username}` })
        .click();
      await admin.getByTestId('impersonation-banner').waitFor();
    } finally {
      expectStatus(await setConsent(false), 200);
    }
  });

  it('shows requests to log in as me under My Preferences, to approve or deny', async (t) => {
    need(h, t, 'POST', '/api/v1/users/:id/impersonation-requests');
    const user = await h.createUser({ firstName: 'Rhea', lastName: 'Requested' });
    const sent = await h.request({
      method: 'POST',
      url: `/api/v1/users/${user.id}/impersonation-requests`,
      as: h.admin,
      payload: { reason: 'Check her dashboard' },
    });
    expectStatus(sent, 201 === sent.statusCode ? 201 : 200);
    const page = await env.open();
    await signIn(page, user.username, user.password);
    await page.goto('/settings/preferences');
    await page.getByText('Check her dashboard').waitFor();
    await env.shot(page, 'consent-pending');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Approved: they can log in as you within one hour.').waitFor();
  });
});
