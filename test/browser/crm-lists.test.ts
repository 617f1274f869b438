import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus, type Harness, type Session } from '../harness.js';
import { describeInBrowser, signIn } from './browser-harness.js';

async function create(h: Harness, as: Session, module: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as, payload });
  expectStatus(res, 201);
  return res.json() as { id: number };
}

describeInBrowser('record lists in the browser', (env) => {
  const { h } = env;

  it('shows the columns a sales team needs, with amounts and dates in the user’s format', async () => {
    await h.request({
      method: 'PATCH',
      url: '/api/v1/users/me',
      as: h.admin,
      payload: { dateFormat: 'mm-dd-yyyy' },
    });
    const org = await create(h, h.admin, 'Accounts', { accountname: 'Initech' });
    await create(h, h.admin, 'Contacts', { firstname: 'Peter', lastname: 'Gibbons', account_id: org.id });
    await create(h, h.admin, 'Potentials', {
      potentialname: 'TPS reports',
      amount: 1234567.5,
      related_to: org.id,
      closingdate: '2027-04-30',
      sales_stage: 'Proposal or Price Quote',
    });
    await create(h, h.admin, 'HelpDesk', { ticket_title: 'Stapler missing', ticketstatus: 'In Progress' });
    const product = await create(h, h.admin, 'Products', { productname: 'Red stapler', unit_price: 20 });
    await create(h, h.admin, 'Quotes', {
      subject: 'Staplers for all',
      quotestage: 'Created',
      account_id: org.id,
      bill_street: '1 Main St',
      ship_street: '1 Main St',
      lineItems: [{ product_id: product.id, quantity: 3, listprice: 20 }],
    });

    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const headers = async (label: string) => {
      const table = page.getByRole('table', { name: label });
      await table.getByRole('link').first().waitFor();
      return (await table.locator('thead th').allTextContents()).map((t) => t.trim());
    };
    await page.goto('/records/Contacts');
    expect(await headers('Contacts')).toContain('Organization Name');
    await page.getByRole('table', { name: 'Contacts' }).getByRole('link', { name: 'Initech' }).waitFor();

    await page.goto('/records/Potentials');
    expect(await headers('Deals')).toEqual(
      expect.arrayContaining(['Sales Stage', 'Organization Name', 'Amount']),
    );
    const deals = page.getByRole('table', { name: 'Deals' });
    await deals.getByText('1,234,567.50').waitFor();
    await deals.getByText('04-30-2027').waitFor();
    await deals.getByRole('link', { name: 'Initech' }).waitFor();
    await env.shot(page, 'list-deals');

    await page.goto('/records/HelpDesk');
    expect(await headers('Tickets')).toContain('Status');
    await page.getByRole('table', { name: 'Tickets' }).getByText('In Progress').waitFor();

    await page.goto('/records/Quotes');
    expect(await headers('Quotes')).toContain('Total');
    await page.getByRole('table', { name: 'Quotes' }).getByText('60.00').waitFor();
    await env.shot(page, 'list-quotes');

    // the columns are the user's to choose, and stay chosen
    await page.getByRole('button', { name: 'Columns' }).click();
    await page.getByRole('checkbox', { name: 'Carrier' }).check();
    await page.keyboard.press('Escape');
    await page.reload();
    expect(await headers('Quotes')).toContain('Carrier');
    await page.getByRole('button', { name: 'Columns' }).click();
    await page.getByRole('button', { name: 'Reset to default columns' }).click();
    await page.keyboard.press('Escape');
    await expect.poll(() => headers('Quotes')).not.toContain('Carrier');
  }, 90_000);

  it('searches names and emails, filters by owner and any fields combined, and keeps it all on Back', async () => {
    // contacts readable by everyone, so "my records" differs from "anyone"
    const sharing = await h.request({
      method: 'PUT',
      url: '/api/v1/sharing-defaults',
      as: h.admin,
      payload: { Contacts: 'public_read' },
    });
    expectStatus(sharing, 200);
    const seller = await h.createUser({ firstName: 'Selma', lastName: 'Seller' });
    await create(h, seller.session, 'Contacts', {
      firstname: 'Jane',
      lastname: 'Doe',
      email: 'jane.doe@example.com',
      leadsource: 'Cold Call',
    });
    await create(h, seller.session, 'Contacts', {
      firstname: 'John',
      lastname: 'Doe',
      email: 'jd@example.com',
      leadsource: 'Web Site',
    });
    await create(h, h.admin, 'Contacts', { firstname: 'Jane', lastname: 'Admins', leadsource: 'Cold Call' });

    const page = await env.open();
    await signIn(page, seller.username, seller.password);
    await page.goto('/records/Contacts');
    const table = page.getByRole('table', { name: 'Contacts' });
    await page.getByLabel('Search contacts').fill('jane.doe');
    await table.getByRole('link', { name: 'Jane Doe' }).waitFor();
    await page.getByText('1 in all').waitFor();
    await page.getByLabel('Search contacts').fill('Jane');
    await page.getByText('2 in all').waitFor();

    await page.getByRole('combobox', { name: 'Owner' }).click();
    await page.getByRole('option', { name: 'My records' }).click();
    await page.getByText('1 in all').waitFor();
    await table.getByRole('link', { name: 'Jane Doe' }).waitFor();

    await page.getByLabel('Search contacts').fill('');
    await page.getByText('2 in all').waitFor();
    await page.getByRole('combobox', { name: 'Filter by' }).click();
    await page.getByRole('option', { name: 'Lead Source' }).click();
    await page.getByRole('combobox', { name: 'Lead Source' }).click();
    await page.getByRole('option', { name: 'Cold Call' }).click();
    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByText('1 in all').waitFor();
    await page.getByRole('combobox', { name: 'Filter by' }).click();
    await page.getByRole('option', { name: 'Primary Email' }).click();
    await page.getByRole('combobox', { name: 'Condition' }).click();
    await page.getByRole('option', { name: 'is not empty' }).click();
    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByRole('button', { name: 'Remove filter Primary Email is not empty' }).waitFor();
    await page.getByText('1 in all').waitFor();
    await env.shot(page, 'list-filtered');
    const listUrl = page.url();
    expect(listUrl).toContain('owner=me');
    expect(new URL(listUrl).searchParams.getAll('f')).toEqual([
      'leadsource:eq:Cold Call',
      'email:empty:false',
    ]);

    await table.getByRole('link', { name: 'Jane Doe' }).click();
    await page.getByRole('heading', { name: 'Jane Doe', level: 1 }).waitFor();
    await page.goBack();
    await page.getByRole('button', { name: 'Remove filter Lead Source is Cold Call' }).waitFor();
    await page.getByText('1 in all').waitFor();
    expect(page.url()).toBe(listUrl);

    await page.getByRole('button', { name: 'Remove filter Lead Source is Cold Call' }).click();
    await page.getByText('2 in all').waitFor();

    // on a phone the table becomes a list of cards
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('list', { name: 'Contacts' }).getByRole('link', { name: 'John Doe' }).waitFor();
    await env.shot(page, 'phone-list');
  }, 90_000);
});
