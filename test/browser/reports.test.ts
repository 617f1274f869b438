import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus, type Harness } from '../harness.js';
import { describeInBrowser, signIn } from './browser-harness.js';

async function create(h: Harness, module: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as: h.admin, payload });
  expectStatus(res, 201);
  return res.json() as { id: number };
}

/** Acme has a 1-line quote (20) and a 3-line quote (4 × 10 + 2 × 3 = 46); Globex a quote with no lines. */
async function seed(h: Harness) {
  const acme = (await create(h, 'Accounts', { accountname: 'Acme' })).id;
  const globex = (await create(h, 'Accounts', { accountname: 'Globex' })).id;
  const widget = (await create(h, 'Products', { productname: 'Widget', unit_price: 10 })).id;
  const gadget = (await create(h, 'Products', { productname: 'Gadget', unit_price: 3 })).id;
  const quote = (subject: string, account: number, stage: string, lines: Array<[number, number]>) =>
    create(h, 'Quotes', {
      subject,
      quotestage: stage,
      account_id: account,
      bill_street: 'Main St 1',
      ship_street: 'Main St 1',
      lineItems: lines.map(([product_id, quantity]) => ({ product_id, quantity })),
    });
  await quote('Small order', acme, 'Created', [[widget, 2]]);
  await quote('Big order', acme, 'Accepted', [
    [widget, 2],
    [widget, 2],
    [gadget, 2],
  ]);
  await quote('Empty quote', globex, 'Created', []);
}

describeInBrowser('reports in the browser', (env) => {
  const { h } = env;

  it('builds and saves a report, then runs a grouped quote report with a chart and line items', async () => {
    await seed(h);
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('link', { name: 'New report' }).click();
    await page.getByLabel('Report name').fill('Organizations');
    await page.getByLabel('Primary module').first().click();
    await page.getByRole('option', { name: 'Organizations' }).click();
    await page.getByLabel('Columns').first().click();
    await page.getByRole('option', { name: 'Organization Name', exact: true }).click();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByTestId('report-rows').getByRole('cell', { name: 'Globex' }).waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/reports\/\d+$/);
    const listed = await h.request({ method: 'GET', url: '/api/v1/reports', as: h.admin });
    expect(listed.json().items.map((r: { name: string }) => r.name)).toContain('Organizations');
    await env.shot(page, 'report-builder');

    // share it with a role, and mail it every Monday and Friday to the admin and an outside address
    const reportId = Number(page.url().split('/').pop());
    await page.getByRole('combobox', { name: 'Who may open it' }).click();
    await page.getByRole('option', { name: 'Chosen users and roles' }).click();
    await page.getByLabel('Roles').first().click();
    await page.getByRole('option', { name: 'Sales Manager' }).click();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Save' }).click();
    // the first save's notice may still be on screen: wait for the saved state itself
    const sharedState = async () =>
      (await h.request({ method: 'GET', url: `/api/v1/reports/${reportId}`, as: h.admin })).json();
    await expect.poll(async () => (await sharedState()).visibility).toBe('shared');
    await page
      .getByText(/was saved/)
      .last()
      .waitFor();
    expect(await sharedState()).toMatchObject({ visibility: 'shared', sharedRoleIds: [expect.any(Number)] });
    const schedules = page.getByText('Mail this report as CSV').locator('..');
    await schedules.getByText('Fri', { exact: true }).click();
    await schedules.getByLabel('Users').first().click();
    await page
      .getByRole('option', { name: /Administrator|admin/ })
      .first()
      .click();
    await page.keyboard.press('Escape');
    await schedules.getByLabel('Email addresses').first().fill('boss@example.org');
    await page.keyboard.press('Enter');
    await schedules.getByRole('button', { name: 'Add schedule' }).click();
    await schedules.getByText('Every Mon, Fri at 08:00 UTC').waitFor();
    await schedules.getByRole('cell', { name: 'Administrator, boss@example.org' }).waitFor();
    await env.shot(page, 'report-schedules');
    const listedSchedules = await h.request({
      method: 'GET',
      url: `/api/v1/reports/${reportId}/schedules`,
      as: h.admin,
    });
    expect(listedSchedules.json().items).toMatchObject([
      {
        frequency: 'weekly',
        weekdays: [1, 5],
        recipientUserIds: [h.admin.userId],
        recipientEmails: ['boss@example.org'],
      },
    ]);

    // a summary report saved over REST: quote totals by stage, with a line-item column and a bar chart
    const saved = await h.request({
      method: 'POST',
      url: '/api/v1/reports',
      as: h.admin,
      payload: {
        name: 'Quotes by stage',
        definition: {
          type: 'summary',
          primary: 'Quotes',
          related: [{ module: 'LineItems' }, { module: 'Accounts', via: 'account_id' }],
          columns: ['Quotes.subject', 'Accounts.accountname', 'LineItems.quantity', 'Quotes.hdnGrandTotal'],
          groupBy: ['Quotes.quotestage'],
          aggregates: [
            { fn: 'sum', field: 'Quotes.hdnGrandTotal' },
            { fn: 'sum', field: 'LineItems.quantity' },
          ],
          sort: [{ field: 'Quotes.subject' }],
          chart: { type: 'bar' },
        },
      },
    });
    expectStatus(saved, 201);
    await page.goto(`/reports/${saved.json().id}`);
    // the saved definition is shown once the report and its sources have loaded
    await expect.poll(() => page.getByLabel('Report name').inputValue()).toBe('Quotes by stage');
    await page.getByText('Quote Stage', { exact: true }).first().waitFor();
    await page.getByRole('button', { name: 'Run' }).click({ timeout: 20_000 });
    await page.getByText('One row per LineItems record').waitFor();
    const totals = page.getByTestId('report-totals');
    await totals.getByText('Sum of Total: 66').waitFor();
    await totals.getByText('Sum of Quantity: 8').waitFor();
    const groups = page.getByTestId('report-groups');
    await groups.getByRole('row', { name: /Accepted 1 46 6/ }).waitFor();
    await groups.getByRole('row', { name: /Created 2 20 2/ }).waitFor();
    await page.getByTestId('report-chart').locator('.recharts-bar-rectangle').first().waitFor();
    await expect(page.getByTestId('report-rows').locator('tbody tr').count()).resolves.toBe(5);
    await env.shot(page, 'report-summary-chart');

    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Export CSV' }).click();
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8');
    expect(csv.split('\n')[0]).toBe('Subject,Organization: Organization Name,Line Item: Quantity,Total');
    expect(csv.split('\n').filter((l) => l.startsWith('Big order'))).toHaveLength(3);
  }, 90_000);
});
