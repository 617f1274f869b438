import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus, type Harness, type Session } from '../harness.js';
import { describeInBrowser, signIn } from './browser-harness.js';

async function create(h: Harness, as: Session, module: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as, payload });
  expectStatus(res, 201);
  return res.json() as { id: number };
}

describeInBrowser('record detail pages in the browser', (env) => {
  const { h } = env;

  it('groups fields in sections, hides empty ones on demand, and shows related lists and history on tabs', async () => {
    const org = await create(h, h.admin, 'Accounts', {
      accountname: 'Umbrella Corp',
      phone: '+1 555 0199',
      bill_city: 'Raccoon City',
      description: 'Pharmaceuticals.',
    });
    await create(h, h.admin, 'Contacts', { firstname: 'Alice', lastname: 'Abernathy', account_id: org.id });
    await create(h, h.admin, 'Contacts', { firstname: 'Albert', lastname: 'Wesker', account_id: org.id });
    await create(h, h.admin, 'Potentials', {
      potentialname: 'Umbrella vaccine deal',
      related_to: org.id,
      amount: 99000,
      closingdate: '2027-06-30',
      sales_stage: 'Qualification',
    });
    await create(h, h.admin, 'HelpDesk', {
      ticket_title: 'Lab door stuck',
      ticketstatus: 'Open',
      parent_id: org.id,
    });

    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`/records/Accounts/${org.id}`);
    await page.getByRole('heading', { name: 'Umbrella Corp', level: 1 }).waitFor();
    for (const section of [
      'Organization Information',
      'Address Information',
      'Description',
      'Record Information',
    ])
      await page.getByRole('region', { name: section }).waitFor();
    await page.getByRole('region', { name: 'Address Information' }).getByText('Raccoon City').waitFor();
    // empty fields are hidden until asked for
    const info = page.getByRole('region', { name: 'Organization Information' });
    await expect(info.getByText('Ticker Symbol', { exact: true }).count()).resolves.toBe(0);
    await env.shot(page, 'detail-sections');
    await page.getByRole('switch', { name: 'Hide empty fields' }).click({ force: true });
    await info.getByText('Ticker Symbol', { exact: true }).waitFor();
    await page.getByRole('switch', { name: 'Hide empty fields' }).click({ force: true });
    await expect.poll(() => info.getByText('Ticker Symbol', { exact: true }).count()).toBe(0);

    await page.getByRole('tab', { name: /Related/ }).click();
    const contacts = page.getByRole('region', { name: 'Contacts' });
    await contacts.getByRole('link', { name: 'Alice Abernathy' }).waitFor();
    await contacts.getByRole('link', { name: 'Albert Wesker' }).waitFor();
    await page
      .getByRole('region', { name: 'Deals' })
      .getByRole('link', { name: 'Umbrella vaccine deal' })
      .waitFor();
    await page
      .getByRole('region', { name: 'Tickets' })
      .getByRole('link', { name: 'Lab door stuck' })
      .waitFor();
    await page.getByRole('region', { name: 'Quotes' }).getByText('None yet.').waitFor();
    expect(page.url()).toContain('tab=related');
    await env.shot(page, 'detail-related');

    // "Add related" opens a new contact already linked to the organization
    await contacts.getByRole('link', { name: 'Add Contact' }).click();
    await page.getByRole('heading', { name: 'New Contact', level: 1 }).waitFor();
    await page.getByLabel(/^Last Name/).fill('Redfield');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Redfield', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Umbrella Corp' }).first().waitFor();
    await page.goto(`/records/Accounts/${org.id}?tab=related`);
    await page.getByRole('region', { name: 'Contacts' }).getByRole('link', { name: 'Redfield' }).waitFor();

    await page.getByRole('tab', { name: 'History' }).click();
    await page.getByTestId('history-entry').first().getByText('Created').waitFor();
    await env.shot(page, 'detail-history');
  }, 90_000);
});
