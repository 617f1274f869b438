import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus } from '../harness.js';
import { describePageInBrowser, expectAccessible, signInHome } from './browser-harness.js';

/** Waits for the page's h1, then runs axe on it. */
async function check(page: Page, url: string, heading: string | RegExp, where: string) {
  await page.goto(url);
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  // lists and sections fill in after the heading: wait for the loaders to go
  await page.locator('[role="status"] .mantine-Loader-root').first().waitFor({ state: 'detached' });
  await expectAccessible(page, where);
}

describePageInBrowser('accessibility (axe-core, WCAG 2.2 AA)', (env) => {
  const { h } = env;

  it('the sign-in and forgot-password pages have no serious or critical violations', async () => {
    const page = await env.open();
    await page.goto('/login');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expectAccessible(page, 'the sign-in page');
    await env.shot(page, 'a11y-login');
    // a failed sign-in shows its error: that state is checked too
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel(/^Password/).fill('wrong password');
    env.allowHttpError('/api/v1/auth/login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await expectAccessible(page, 'the sign-in page with an error');
  }, 60_000);

  it('every main CRM and settings page has no serious or critical violations', async () => {
    const org = await h.request({
      method: 'POST',
      url: '/api/v1/records/Accounts',
      as: h.admin,
      payload: { accountname: 'Axe Industries', phone: '+1 555 0100' },
    });
    expectStatus(org, 201);
    const orgId = (org.json() as { id: number }).id;
    const contact = await h.request({
      method: 'POST',
      url: '/api/v1/records/Contacts',
      as: h.admin,
      payload: { firstname: 'Ada', lastname: 'Access', email: 'ada@axe.example', account_id: orgId },
    });
    expectStatus(contact, 201);
    const contactId = (contact.json() as { id: number }).id;

    const page = await env.open();
    await signInHome(page, 'admin', ADMIN_PASSWORD);
    await expectAccessible(page, 'Home');
    await env.shot(page, 'a11y-home');
    const pages: Array<[string, string | RegExp, string]> = [
      ['/records/Contacts', 'Contacts', 'the Contacts list'],
      ['/records/Accounts', 'Organizations', 'the Organizations list'],
      ['/records/Potentials', 'Deals', 'the Deals list'],
      [`/records/Contacts/${contactId}`, 'Ada Access', 'a contact’s detail page'],
      [`/records/Accounts/${orgId}?tab=related`, 'Axe Industries', 'an organization’s related lists'],
      [`/records/Contacts/${contactId}/edit`, /^Edit/, 'the contact edit form'],
      ['/records/Quotes/new', 'New Quote', 'the new quote form with line items'],
      ['/settings', 'Settings', 'Settings'],
      ['/settings/preferences', /Preferences/, 'My Preferences'],
      ['/settings/users', 'Users', 'Users'],
      ['/settings/roles', /Roles/, 'Roles'],
      ['/settings/company', /Company/, 'Company settings'],
      ['/settings/audit', /Audit/, 'the audit log'],
      ['/reports', 'Reports', 'Reports'],
    ];
    for (const [url, heading, where] of pages) {
      await check(page, url, heading, where);
      if (url === '/records/Contacts') await env.shot(page, 'a11y-contacts');
      if (url.endsWith('/edit')) await env.shot(page, 'a11y-edit');
    }
    // the search dialog, open with results
    await page.keyboard.press('Control+K');
    await page.getByRole('combobox', { name: 'Search records' }).fill('axe');
    await page.getByRole('option', { name: /Axe Industries/ }).waitFor();
    await expectAccessible(page, 'the search dialog');
    expect(await page.locator('main').count()).toBe(1);
  }, 120_000);

  it('on a phone the home page, the menu and a list (as cards) have no serious or critical violations', async () => {
    const page = await env.open({ width: 390, height: 844 });
    await signInHome(page, 'admin', ADMIN_PASSWORD);
    await expectAccessible(page, 'Home on a phone');
    await page.getByRole('button', { name: 'Open menu' }).click();
    await page.getByRole('dialog', { name: 'Menu' }).waitFor();
    await expectAccessible(page, 'the phone menu');
    await page.getByRole('dialog', { name: 'Menu' }).getByRole('link', { name: 'Organizations' }).click();
    await page.getByRole('heading', { name: 'Organizations', level: 1 }).waitFor();
    await page.locator('[role="status"] .mantine-Loader-root').first().waitFor({ state: 'detached' });
    await expectAccessible(page, 'a list on a phone');
    await env.shot(page, 'a11y-phone-list');
  }, 60_000);
});
