import { beforeAll, expect, it } from 'vitest';
import {
  describeReportDbs,
  errorCode,
  expectStatus,
  type Harness,
  type Session,
} from '../../test/harness.js';

async function create(h: Harness, module: string, payload: Record<string, unknown>, as: Session = h.admin) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as, payload });
  expectStatus(res, 201);
  return res.json() as Record<string, unknown> & { id: number };
}

type Result = {
  columns: Array<{ key: string }>;
  rows: unknown[][];
  totalRows: number;
  totalRecords: number;
  rowsPer: string | null;
  groups: Array<{ level: number; keys: unknown[]; records: number; values: unknown[] }>;
  totals: unknown[];
};

async function run(h: Harness, definition: Record<string, unknown>, as: Session = h.admin): Promise<Result> {
  const res = await h.request({ method: 'POST', url: '/api/v1/reports/run', as, payload: { definition } });
  expectStatus(res, 200);
  return res.json() as Result;
}

/**
 * Hand-computed fixtures: Acme (revenue 1000) has 3 contacts, Globex (500) none; quotes with 0, 1 and 7 line
 * items. Every total below is worked out by hand from these numbers.
 */
describeReportDbs('reports never double-count', (h) => {
  let acme: number;
  let widget: number;
  let gadget: number;
  beforeAll(async () => {
    acme = (await create(h, 'Accounts', { accountname: 'Acme', annual_revenue: 1000 })).id;
    const globex = (await create(h, 'Accounts', { accountname: 'Globex', annual_revenue: 500 })).id;
    for (const lastname of ['Xu', 'Xu', 'Young']) await create(h, 'Contacts', { lastname, account_id: acme });
    widget = (await create(h, 'Products', { productname: 'Widget', unit_price: 10 })).id;
    gadget = (await create(h, 'Products', { productname: 'Gadget', unit_price: 3 })).id;
    const quote = (subject: string, account: number, stage: string, lines: Array<[number, number]>) =>
      create(h, 'Quotes', {
        subject,
        quotestage: stage,
        account_id: account,
        bill_street: 'Main St 1',
        ship_street: 'Main St 1',
        lineItems: lines.map(([product_id, quantity]) => ({ product_id, quantity })),
      });
    // Q0: no lines, total 0; Q1: 2 widgets = 20; Q7: 4 widgets (40) + 3 × 1 gadget (9) = 49, 7 lines, qty 7
    await quote('Q0', globex, 'Created', []);
    await quote('Q1', acme, 'Created', [[widget, 2]]);
    await quote('Q7', acme, 'Accepted', [
      [widget, 1],
      [widget, 1],
      [widget, 1],
      [widget, 1],
      [gadget, 1],
      [gadget, 1],
      [gadget, 1],
    ]);
  });

  const accountsWithContacts = {
    primary: 'Accounts',
    related: [{ module: 'Contacts', via: 'account_id' }],
    aggregates: [
      { fn: 'sum', field: 'Accounts.annual_revenue' },
      { fn: 'count' },
      { fn: 'count', field: 'Contacts.lastname' },
    ],
  };

  it('an Account with 3 Contacts: its revenue counts once in the totals, rows say one row per contact', async () => {
    const res = await run(h, {
      ...accountsWithContacts,
      columns: ['Accounts.accountname', 'Contacts.lastname'],
      sort: [{ field: 'Accounts.accountname' }, { field: 'Contacts.lastname' }],
    });
    expect(res.rows).toEqual([
      ['Acme', 'Xu'],
      ['Acme', 'Xu'],
      ['Acme', 'Young'],
      ['Globex', null],
    ]);
    expect(res).toMatchObject({ totalRows: 4, totalRecords: 2, rowsPer: 'Contacts' });
    expect(res.totals).toEqual([1500, 2, 3]);
  });

  it('grouped by a contact field, each group counts an account once; the grand total counts it once', async () => {
    const res = await run(h, { ...accountsWithContacts, type: 'summary', groupBy: ['Contacts.lastname'] });
    expect(res.groups.map((g) => [g.keys, g.records, g.values])).toEqual([
      [['Xu'], 1, [1000, 1, 2]],
      [['Young'], 1, [1000, 1, 1]],
      [[null], 1, [500, 1, 0]],
    ]);
    expect(res.totals).toEqual([1500, 2, 3]);
  });

  it('without a contact column there is one row per account', async () => {
    const res = await run(h, {
      primary: 'Accounts',
      related: [{ module: 'Contacts', via: 'account_id' }],
      columns: ['Accounts.accountname'],
      filter: { field: 'Contacts.lastname', op: 'eq', value: 'Xu' },
      aggregates: [{ fn: 'sum', field: 'Accounts.annual_revenue' }],
    });
    expect(res.rows).toEqual([['Acme']]);
    expect(res).toMatchObject({ totalRows: 1, totalRecords: 1, rowsPer: null, totals: [1000] });
  });

  const quotesByStage = {
    primary: 'Quotes',
    type: 'summary',
    related: [{ module: 'LineItems' }, { module: 'Products', from: 'LineItems', via: 'product_id' }],
    aggregates: [
      { fn: 'sum', field: 'Quotes.hdnGrandTotal' },
      { fn: 'sum', field: 'LineItems.quantity' },
      { fn: 'count' },
      { fn: 'avg', field: 'Quotes.hdnGrandTotal' },
      { fn: 'max', field: 'Quotes.hdnGrandTotal' },
    ],
  };

  it('quotes with 0, 1 and 7 lines: quote totals over distinct quotes, quantities over lines', async () => {
    const res = await run(h, { ...quotesByStage, groupBy: ['Quotes.quotestage'] });
    expect(res.groups.map((g) => [g.keys, g.values])).toEqual([
      [['Accepted'], [49, 7, 1, 49, 49]],
      [['Created'], [20, 2, 2, 10, 20]],
    ]);
    expect(res.totals).toEqual([69, 9, 3, 23, 49]);
  });

  it('grouped by organization and then by product: a quote counts once per product it contains', async () => {
    const res = await run(h, {
      ...quotesByStage,
      related: [...quotesByStage.related, { module: 'Accounts', via: 'account_id' }],
      groupBy: ['Accounts.accountname', 'Products.productname'],
    });
    const at = (level: number) => res.groups.filter((g) => g.level === level).map((g) => [g.keys, g.values]);
    expect(at(1)).toEqual([
      [['Acme'], [69, 9, 2, 34.5, 49]],
      [['Globex'], [0, null, 1, 0, 0]],
    ]);
    expect(at(2)).toEqual([
      [
        ['Acme', 'Gadget'],
        [49, 3, 1, 49, 49],
      ],
      [
        ['Acme', 'Widget'],
        [69, 6, 2, 34.5, 49],
      ],
      [
        ['Globex', null],
        [0, null, 1, 0, 0],
      ],
    ]);
    expect(res.totals).toEqual([69, 9, 3, 23, 49]);
  });

  it('one quote, one row; a line-item column gives one row per line and says so', async () => {
    const base = {
      primary: 'Quotes',
      related: [{ module: 'LineItems' }],
      sort: [{ field: 'Quotes.subject' }],
    };
    const quotes = await run(h, { ...base, columns: ['Quotes.subject', 'Quotes.hdnGrandTotal'] });
    expect(quotes.rows).toEqual([
      ['Q0', 0],
      ['Q1', 20],
      ['Q7', 49],
    ]);
    expect(quotes.rowsPer).toBeNull();
    const lines = await run(h, {
      ...base,
      columns: ['Quotes.subject', 'LineItems.quantity'],
      aggregates: [{ fn: 'sum', field: 'Quotes.hdnGrandTotal' }],
    });
    expect(lines).toMatchObject({ totalRows: 9, totalRecords: 3, rowsPer: 'LineItems', totals: [69] });
    expect(lines.rows.filter((r) => r[0] === 'Q7')).toHaveLength(7);
  });

  it('"quotes that contain product X" keeps one row per quote', async () => {
    const res = await run(h, {
      primary: 'Quotes',
      related: [{ module: 'LineItems' }, { module: 'Products', from: 'LineItems', via: 'product_id' }],
      columns: ['Quotes.subject'],
      filter: { field: 'Products.productname', op: 'eq', value: 'Widget' },
      aggregates: [{ fn: 'sum', field: 'Quotes.hdnGrandTotal' }],
      sort: [{ field: 'Quotes.subject' }],
    });
    expect(res.rows).toEqual([['Q1'], ['Q7']]);
    expect(res.totals).toEqual([69]);
    const byLine = await run(h, {
      primary: 'Quotes',
      related: [{ module: 'LineItems' }],
      columns: ['Quotes.subject'],
      filter: { and: [{ field: 'LineItems.product_id', op: 'eq', value: gadget }] },
    });
    expect(byLine.rows).toEqual([['Q7']]);
  });

  it('refuses bad definitions with a 400 that names the problem', async () => {
    const bad = async (definition: Record<string, unknown>, pattern: RegExp, code = 'REPORT_INVALID') => {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/reports/run',
        as: h.admin,
        payload: { definition },
      });
      expect(res.statusCode, res.body).toBeLessThan(500);
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
      expect(errorCode(res), res.body).toBe(code);
      expect(res.json().error.message).toMatch(pattern);
    };
    await bad({ primary: 'Quotes', columns: ['Quotes.nope'] }, /columns\[0\].*no field "nope"/);
    await bad({ primary: 'Quotes', related: [{ module: 'Contacts', via: 'account_id' }] }, /not related/);
    await bad(
      { primary: 'Quotes', aggregates: [{ fn: 'sum', field: 'Quotes.subject' }] },
      /sum needs a number/,
    );
    await bad({ primary: 'Quotes', columns: ['Quotes.cf_99'] }, /no longer exists/, 'REPORT_FIELD_MISSING');
    await bad(
      {
        primary: 'Accounts',
        related: [
          { module: 'Contacts', via: 'account_id' },
          { module: 'Potentials', via: 'related_to' },
        ],
        columns: ['Contacts.lastname', 'Potentials.potentialname'],
      },
      /two one-to-many relations/,
    );
    let deep: Record<string, unknown> = { field: 'Quotes.subject', op: 'eq', value: 'x' };
    for (let i = 0; i < 100; i++) deep = { and: [deep] };
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/reports/run',
      as: h.admin,
      payload: { definition: { primary: 'Quotes', filter: deep } },
    });
    expect(res.statusCode).toBe(400);
    const four = await h.request({
      method: 'POST',
      url: '/api/v1/reports/run',
      as: h.admin,
      payload: {
        definition: {
          primary: 'Quotes',
          groupBy: ['Quotes.subject', 'Quotes.quotestage', 'Quotes.carrier', 'Quotes.shipping'],
        },
      },
    });
    expect(four.statusCode).toBe(400);
    expect(acme).toBeGreaterThan(0);
    expect(widget).toBeGreaterThan(0);
  });
});
