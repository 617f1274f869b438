import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus, type Harness, type Session } from '../harness.js';
import { describeInBrowser, expectAccessible, signInHome } from './browser-harness.js';

async function create(h: Harness, as: Session, module: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as, payload });
  expectStatus(res, 201);
  return res.json() as { id: number };
}

describeInBrowser('global search and lead conversion in the browser', (env) => {
  const { h } = env;

  it('Ctrl+K and "/" open a search that finds records by name, email and number, grouped by module; Enter opens one', async () => {
    const org = await create(h, h.admin, 'Accounts', { accountname: 'Globex Corporation' });
    const hank = await create(h, h.admin, 'Contacts', {
      firstname: 'Hank',
      lastname: 'Scorpio',
      email: 'hank@globex.example',
      account_id: org.id,
    });
    await create(h, h.admin, 'Potentials', {
      potentialname: 'Globex doomsday device',
      closingdate: '2027-06-30',
      sales_stage: 'Prospecting',
    });
    await create(h, h.admin, 'Contacts', {
      firstname: 'Homer',
      lastname: 'Simpson',
      email: 'homer@snpp.example',
    });

    const page = await env.open();
    await signInHome(page, 'admin', ADMIN_PASSWORD);

    // Ctrl+K from anywhere on the page
    await page.keyboard.press('Control+K');
    const box = page.getByRole('combobox', { name: 'Search records' });
    await box.waitFor();
    // the box has the focus: typing goes straight into it
    await expect
      .poll(() =>
        page.evaluate('document.activeElement && document.activeElement.getAttribute("aria-label")'),
      )
      .toBe('Search records');
    await box.fill('globex');
    const results = page.getByRole('listbox', { name: 'Search results' });
    await results.getByRole('option', { name: /Globex Corporation/ }).waitFor();
    // grouped by module, each group named
    await results.getByRole('group', { name: 'Organizations' }).waitFor();
    await results
      .getByRole('group', { name: 'Deals' })
      .getByRole('option', { name: /doomsday/ })
      .waitFor();
    await expect(results.getByRole('option', { name: /Homer/ }).count()).resolves.toBe(0);
    await expect(box.getAttribute('aria-expanded')).resolves.toBe('true');
    await env.shot(page, 'search-globex');
    await expectAccessible(page, 'the search dialog with results');

    // an email finds the contact; the matched value is shown
    await box.fill('hank@globex');
    const hankOption = results.getByRole('option', { name: /Hank Scorpio/ });
    await hankOption.waitFor();
    await expect(hankOption.textContent()).resolves.toContain('hank@globex.example');
    // the email's words find only Hank, who is then the first (selected) option
    await expect.poll(() => results.getByRole('option').count()).toBe(1);
    await expect.poll(() => hankOption.getAttribute('aria-selected')).toBe('true');
    await expect(box.getAttribute('aria-activedescendant')).resolves.toBe(
      await hankOption.getAttribute('id'),
    );
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Hank Scorpio', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/records/Contacts/${hank.id}`);
    await expect(page.getByRole('dialog', { name: 'Search records' }).count()).resolves.toBe(0);

    // "/" opens it too (outside a text field); arrows move down the groups
    await page.getByRole('heading', { name: 'Hank Scorpio', level: 1 }).click();
    await page.keyboard.press('/');
    await box.waitFor();
    await expect(box.inputValue()).resolves.toBe('');
    await box.fill('glob');
    await results.getByRole('option').nth(1).waitFor();
    const options = results.getByRole('option');
    const count = await options.count();
    expect(count).toBeGreaterThanOrEqual(3);
    await page.keyboard.press('ArrowDown');
    await expect(options.nth(1).getAttribute('aria-selected')).resolves.toBe('true');
    await expect(options.nth(0).getAttribute('aria-selected')).resolves.toBe('false');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await expect(options.nth(count - 1).getAttribute('aria-selected')).resolves.toBe('true');
    const last = (await options.nth(count - 1).textContent()) ?? '';
    await page.keyboard.press('Enter');
    await page
      .getByRole('heading', { level: 1, name: last.includes('doomsday') ? /doomsday/ : /Globex|Hank/ })
      .waitFor();

    // nothing found says so
    await page.keyboard.press('Control+K');
    await box.fill('zzzz-nothing');
    await page.getByText('No records match “zzzz-nothing”.').waitFor();
    await expect(box.getAttribute('aria-expanded')).resolves.toBe('false');
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog', { name: 'Search records' }).count()).resolves.toBe(0);

    // the header never wraps or overflows: a tablet gets the menu button and a search icon, a small laptop
    // the links on one line and the icon, a wide screen the links and the full search button
    for (const [width, links, fullButton] of [
      [800, false, false],
      [1000, true, false],
      [1280, true, true],
    ] as const) {
      await page.setViewportSize({ width, height: 900 });
      await expect(page.getByRole('button', { name: 'Open menu' }).isVisible()).resolves.toBe(!links);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await expect(nav.isVisible()).resolves.toBe(links);
      if (links) expect((await nav.boundingBox())!.height).toBeLessThan(40);
      await page.getByRole('button', { name: fullButton ? /^Search/ : 'Search' }).waitFor();
      expect(
        await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
      ).toBeLessThanOrEqual(0);
      await env.shot(page, `search-header-${width}`);
    }

    // on a phone the header shows a search button
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await box.fill('homer');
    await results.getByRole('option', { name: /Homer Simpson/ }).click();
    await page.getByRole('heading', { name: 'Homer Simpson', level: 1 }).waitFor();
    await env.shot(page, 'search-phone-result');
  }, 90_000);

  it('a lead is converted into an organization, a contact and a deal from its page, and then shows what it became', async () => {
    const lead = await create(h, h.admin, 'Leads', {
      firstname: 'Lisa',
      lastname: 'Lead',
      company: 'Springfield Nuclear',
      email: 'lisa@snpp.example',
      phone: '+1 555 0199',
    });
    const page = await env.open();
    await signInHome(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`/records/Leads/${lead.id}`);
    await page.getByRole('heading', { name: 'Lisa Lead', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Convert lead' }).click();
    const dialog = page.getByRole('dialog', { name: 'Convert lead' });
    await dialog.waitFor();
    // prefilled from the lead
    await expect(dialog.getByLabel(/^Organization Name/).inputValue()).resolves.toBe('Springfield Nuclear');
    await expect(dialog.getByLabel(/^Last Name/).inputValue()).resolves.toBe('Lead');
    await expect(dialog.getByLabel(/^Email/).inputValue()).resolves.toBe('lisa@snpp.example');
    await dialog.getByLabel('Create a deal').check();
    await dialog.getByLabel(/^Deal Name/).fill('Springfield reactor service');
    await dialog.getByLabel('Amount').fill('48000');
    // the deal's mandatory fields are asked for before anything is sent
    await dialog.getByRole('button', { name: 'Convert' }).click();
    await dialog.getByText('Expected Close Date is required.').waitFor();
    await dialog.getByRole('combobox', { name: /^Sales Stage/ }).click();
    await page.getByRole('option', { name: 'Qualification' }).click();
    await dialog.getByLabel(/^Expected Close Date/).fill('2027-09-30');
    await env.shot(page, 'convert-lead-form');
    await expectAccessible(page, 'the convert lead dialog');
    await dialog.getByRole('button', { name: 'Convert' }).click();

    // lands on the new contact, linked to the new organization
    await page.getByRole('heading', { name: 'Lisa Lead', level: 1 }).waitFor();
    await page.waitForURL(/\/records\/Contacts\/\d+$/);
    const contactId = Number(new URL(page.url()).pathname.split('/').pop());
    await page.getByRole('link', { name: 'Springfield Nuclear' }).first().waitFor();

    const conv = await h.request({
      method: 'GET',
      url: `/api/v1/records/Leads/${lead.id}/conversion`,
      as: h.admin,
    });
    expectStatus(conv, 200);
    const c = conv.json() as { accountId: number; contactId: number; potentialId: number };
    expect(c.contactId).toBe(contactId);
    const deal = await h.request({
      method: 'GET',
      url: `/api/v1/records/Potentials/${c.potentialId}`,
      as: h.admin,
    });
    expectStatus(deal, 200);
    expect(deal.json()).toMatchObject({
      potentialname: 'Springfield reactor service',
      amount: 48000,
      sales_stage: 'Qualification',
      closingdate: '2027-09-30',
      related_to: c.accountId,
      contact_id: contactId,
    });

    // the lead now says it was converted, with links to what it became, and offers no second conversion
    await page.goto(`/records/Leads/${lead.id}`);
    const notice = page.getByRole('alert').filter({ hasText: 'Converted' });
    await notice.getByRole('link', { name: 'Springfield reactor service' }).waitFor();
    await notice.getByRole('link', { name: 'Springfield Nuclear' }).waitFor();
    await notice.getByRole('link', { name: 'Lisa Lead' }).waitFor();
    await expect(page.getByRole('button', { name: 'Convert lead' }).count()).resolves.toBe(0);
    await env.shot(page, 'lead-converted');
    await expectAccessible(page, 'a converted lead');
    await notice.getByRole('link', { name: 'Springfield reactor service' }).click();
    await page.getByRole('heading', { name: 'Springfield reactor service', level: 1 }).waitFor();
  }, 90_000);

  it('a lead converted into a contact only links just that contact', async () => {
    const lead = await create(h, h.admin, 'Leads', { lastname: 'Solo', company: 'Solo Ltd' });
    const page = await env.open();
    await signInHome(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`/records/Leads/${lead.id}`);
    await page.getByRole('button', { name: 'Convert lead' }).click();
    const dialog = page.getByRole('dialog', { name: 'Convert lead' });
    await dialog.getByLabel('Create an organization').uncheck();
    await dialog.getByRole('button', { name: 'Convert' }).click();
    await page.waitForURL(/\/records\/Contacts\/\d+$/);
    await page.getByRole('heading', { name: 'Solo', level: 1 }).waitFor();
    await page.goto(`/records/Leads/${lead.id}`);
    const notice = page.getByRole('alert').filter({ hasText: 'Converted' });
    await notice.getByRole('link', { name: 'Solo' }).waitFor();
    await expect(notice.getByText('Organization').count()).resolves.toBe(0);
  }, 60_000);
});
