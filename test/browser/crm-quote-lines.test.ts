import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus } from '../harness.js';
import { describeInBrowser, signIn } from './browser-harness.js';

describeInBrowser('quote line items in the browser', (env) => {
  const { h } = env;

  it('adds products with defaulted prices and discounts; the live total equals what the server stores', async () => {
    for (const [productname, unit_price] of [
      ['Widget Pro', 120],
      ['Gadget Basic', 35.5],
    ] as const) {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/records/Products',
        as: h.admin,
        payload: { productname, unit_price },
      });
      expectStatus(res, 201);
    }
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/records/Quotes/new');
    await page.getByLabel(/^Subject/).fill('Line item quote');
    await page.getByRole('combobox', { name: /^Quote Stage/ }).click();
    await page.getByRole('option', { name: 'Created' }).click();
    await page.getByLabel(/^Billing Address/).fill('1 Main St');
    await page.getByLabel(/^Shipping Address/).fill('1 Main St');
    const lines = page.getByRole('region', { name: 'Line items' });
    await lines.getByRole('button', { name: 'Add line' }).click();
    const first = lines.getByRole('group', { name: 'Line 1' });
    await first.getByRole('combobox', { name: 'Product' }).fill('widget');
    await page.getByRole('option', { name: 'Widget Pro' }).click();
    await expect.poll(() => first.getByLabel('List price').inputValue(), { timeout: 10_000 }).toBe('120');
    await first.getByLabel('Quantity').fill('3');
    await lines.getByRole('button', { name: 'Add line' }).click();
    const second = lines.getByRole('group', { name: 'Line 2' });
    await second.getByRole('combobox', { name: 'Product' }).fill('gadget');
    await page.getByRole('option', { name: 'Gadget Basic' }).click();
    await second.getByText('%', { exact: true }).click();
    await second.getByLabel('Discount %').fill('10');
    // 3 × 120 + (35.50 − 10 %) = 360 + 31.95
    await expect
      .poll(() => lines.getByTestId('total-grand').textContent(), { timeout: 10_000 })
      .toBe('391.95');
    await second.getByRole('button', { name: 'Move line 2 up' }).click();
    await env.shot(page, 'quote-lines-editor');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Line item quote', level: 1 }).waitFor();
    const id = Number(new URL(page.url()).pathname.split('/').at(-1));
    const res = await h.request({ method: 'GET', url: `/api/v1/records/Quotes/${id}`, as: h.admin });
    expectStatus(res, 200);
    const q = res.json() as {
      hdnGrandTotal: number;
      lineItems: Array<{ quantity: number; net_price: number }>;
    };
    expect(q.hdnGrandTotal).toBe(391.95);
    expect(q.lineItems.map((l) => l.net_price)).toEqual([31.95, 360]);
    await page.getByRole('table', { name: 'Line items' }).getByText('Gadget Basic').waitFor();
    await env.shot(page, 'quote-lines-detail');
  }, 90_000);
});
