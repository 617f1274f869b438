import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus, type Harness, type Session } from '../harness.js';
import { describeInBrowser, signInHome } from './browser-harness.js';

async function create(h: Harness, as: Session, module: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as, payload });
  expectStatus(res, 201);
  return res.json() as { id: number };
}

/** Exactly one <main> landmark on the page (a nested one confuses screen readers). */
async function expectOneMain(page: Page) {
  await expect(page.locator('main').count()).resolves.toBe(1);
}

describeInBrowser('home and navigation in the browser', (env) => {
  const { h } = env;

  it('a sales person lands on Home with their open deals, open tickets and recent records', async () => {
    const sam = await env.h.createUser({ firstName: 'Sam', lastName: 'Seller' });
    const org = await create(h, sam.session, 'Accounts', { accountname: 'Northwind Traders' });
    await create(h, sam.session, 'Potentials', {
      potentialname: 'Northwind renewal',
      amount: 12500,
      related_to: org.id,
      closingdate: '2027-03-31',
      sales_stage: 'Negotiation or Review',
    });
    await create(h, sam.session, 'Potentials', {
      potentialname: 'Lost cause',
      closingdate: '2027-01-31',
      sales_stage: 'Closed Lost',
    });
    // someone else's open deal is not "mine"
    await create(h, h.admin, 'Potentials', {
      potentialname: 'Admin deal',
      closingdate: '2027-01-31',
      sales_stage: 'Prospecting',
    });
    // tickets are assigned to sales people by support (the default profile may not create them)
    await create(h, h.admin, 'HelpDesk', {
      ticket_title: 'Printer on fire',
      ticketstatus: 'Open',
      ticketpriorities: 'Urgent',
      assigned_user_id: sam.id,
    });
    await create(h, h.admin, 'HelpDesk', {
      ticket_title: 'Solved long ago',
      ticketstatus: 'Closed',
      assigned_user_id: sam.id,
    });
    const prefs = await h.request({
      method: 'PATCH',
      url: '/api/v1/users/me',
      as: sam.session,
      payload: { dateFormat: 'dd-mm-yyyy' },
    });
    expect([200, 204]).toContain(prefs.statusCode);

    const page = await env.open();
    await signInHome(page, sam.username, sam.password);
    expect(new URL(page.url()).pathname).toBe('/');
    const deals = page.getByRole('region', { name: 'My open deals' });
    await deals.getByRole('link', { name: 'Northwind renewal' }).waitFor();
    await expect(deals.getByText('12,500.00').count()).resolves.toBe(1);
    await expect(deals.getByText('Closes 31-03-2027').count()).resolves.toBe(1);
    await expect(deals.getByText('Lost cause').count()).resolves.toBe(0);
    await expect(deals.getByText('Admin deal').count()).resolves.toBe(0);
    const tickets = page.getByRole('region', { name: 'My open tickets' });
    await tickets.getByRole('link', { name: 'Printer on fire' }).waitFor();
    await expect(tickets.getByText('Solved long ago').count()).resolves.toBe(0);
    const recent = page.getByRole('region', { name: 'Recently changed by me' });
    await recent.getByRole('link', { name: 'Northwind Traders' }).waitFor();
    await recent.getByRole('link', { name: 'Northwind renewal' }).waitFor();
    await expect(recent.getByText('Admin deal').count()).resolves.toBe(0);
    await expectOneMain(page);
    await env.shot(page, 'home-sales');

    await deals.getByRole('link', { name: 'Northwind renewal' }).click();
    await page.getByRole('heading', { name: 'Northwind renewal', level: 1 }).waitFor();
    await expectOneMain(page);
  }, 60_000);

  it('on a phone (390×844) every page is reachable through the menu', async () => {
    const page = await env.open({ width: 390, height: 844 });
    await signInHome(page, 'admin', ADMIN_PASSWORD);
    // the desktop links are hidden; a menu button opens them all
    await expect(page.getByRole('navigation', { name: 'Main' }).isVisible()).resolves.toBe(false);
    await env.shot(page, 'phone-home');
    const targets: Array<[string, string]> = [
      ['Contacts', 'Contacts'],
      ['Organizations', 'Organizations'],
      ['Leads', 'Leads'],
      ['Deals', 'Deals'],
      ['Tickets', 'Tickets'],
      ['Quotes', 'Quotes'],
      ['Products', 'Products'],
      ['Settings', 'Settings'],
      ['Home', 'Home'],
    ];
    for (const [link, heading] of targets) {
      await page.getByRole('button', { name: 'Open menu' }).click();
      const menu = page.getByRole('dialog', { name: 'Menu' });
      await menu.waitFor();
      if (link === 'Contacts') await env.shot(page, 'phone-menu');
      await menu.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      await menu.waitFor({ state: 'hidden' });
    }
    // the page fits the phone's width: nothing scrolls sideways but tables inside their own box
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.goto('/records/Contacts');
    await page.getByRole('heading', { name: 'Contacts', level: 1 }).waitFor();
    await env.shot(page, 'phone-contacts');
    // a wide screen shows the links in the header and no menu button
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deals' }).waitFor();
    await expect(page.getByRole('button', { name: 'Open menu' }).isVisible()).resolves.toBe(false);
  }, 60_000);
});
