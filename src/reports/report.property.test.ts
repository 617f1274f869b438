import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { describeReportDbs, expectStatus, type Harness } from '../../test/harness.js';

const RUNS = Number(process.env.RAPPORT_FUZZ_RUNS ?? 25);
const STAGES = ['Created', 'Delivered', 'Accepted'];
const CARRIERS = ['FedEx', 'UPS', null];

interface Line {
  product: string;
  quantity: number;
}
interface Quote {
  account: string | null;
  stage: string;
  carrier: string | null;
  total: number;
  subTotal: number;
  lines: Line[];
}

async function create(h: Harness, module: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as: h.admin, payload });
  expectStatus(res, 201);
  return res.json() as Record<string, unknown> & { id: number };
}

type Key = 'Quotes.quotestage' | 'Quotes.carrier' | 'Accounts.accountname' | 'Products.productname';

/** The brute force: every (quote, line) row, then sums over distinct quotes and over lines per group. */
function expected(quotes: Quote[], groupBy: Key[]) {
  const rows = quotes.flatMap((q, qi) =>
    (q.lines.length ? q.lines : [null]).map((line) => ({ qi, q, line })),
  );
  const keyOf = (r: (typeof rows)[number], k: Key) =>
    k === 'Quotes.quotestage'
      ? r.q.stage
      : k === 'Quotes.carrier'
        ? r.q.carrier
        : k === 'Accounts.accountname'
          ? r.q.account
          : (r.line?.product ?? null);
  const out = new Map<
    string,
    {
      total: number;
      sub: number;
      count: number;
      qty: number | null;
      lines: number;
      minQty: number | null;
      maxQty: number | null;
      avgTotal: number;
    }
  >();
  for (let level = 0; level <= groupBy.length; level++) {
    const groups = new Map<string, typeof rows>();
    for (const r of rows) {
      const k = JSON.stringify([level, ...groupBy.slice(0, level).map((g) => keyOf(r, g))]);
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    for (const [k, rs] of groups) {
      const distinct = [...new Map(rs.map((r) => [r.qi, r.q])).values()];
      const lines = rs.flatMap((r) => (r.line ? [r.line] : []));
      out.set(k, {
        total: distinct.reduce((a, q) => a + q.total, 0),
        sub: distinct.reduce((a, q) => a + q.subTotal, 0),
        count: distinct.length,
        qty: lines.length ? lines.reduce((a, l) => a + l.quantity, 0) : null,
        lines: lines.length,
        minQty: lines.length ? Math.min(...lines.map((l) => l.quantity)) : null,
        maxQty: lines.length ? Math.max(...lines.map((l) => l.quantity)) : null,
        avgTotal: distinct.reduce((a, q) => a + q.total, 0) / distinct.length,
      });
    }
  }
  return out;
}

describeReportDbs('report totals equal a brute force over distinct entities (property)', (h) => {
  const quotes: Quote[] = [];
  beforeAll(async () => {
    const rand = fc.sample(fc.integer({ min: 0, max: 1_000_000 }), { numRuns: 400, seed: 42 });
    let i = 0;
    const next = (n: number) => rand[i++ % rand.length]! % n;
    const accounts = [] as Array<{ id: number; name: string }>;
    for (const name of ['Acme', 'Globex', 'Initech'])
      accounts.push({ id: (await create(h, 'Accounts', { accountname: name })).id, name });
    const products = [] as Array<{ id: number; name: string }>;
    for (const [name, price] of [
      ['Widget', 10],
      ['Gadget', 2.5],
      ['Doohickey', 7.25],
    ] as const)
      products.push({ id: (await create(h, 'Products', { productname: name, unit_price: price })).id, name });
    for (let q = 0; q < 14; q++) {
      const account = next(4) === 3 ? null : accounts[next(3)]!;
      const lines = Array.from({ length: [0, 1, 2, 3, 7][next(5)]! }, () => ({
        product: products[next(3)]!,
        quantity: 1 + next(5),
      }));
      const stage = STAGES[next(3)]!;
      const carrier = CARRIERS[next(3)]!;
      const made = await create(h, 'Quotes', {
        subject: `Q${q}`,
        quotestage: stage,
        ...(carrier ? { carrier } : {}),
        ...(account ? { account_id: account.id } : {}),
        bill_street: 'x',
        ship_street: 'x',
        hdnS_H_Amount: next(3) * 5,
        lineItems: lines.map((l) => ({ product_id: l.product.id, quantity: l.quantity })),
      });
      quotes.push({
        account: account?.name ?? null,
        stage,
        carrier,
        total: made.hdnGrandTotal as number,
        subTotal: made.hdnSubTotal as number,
        lines: lines.map((l) => ({ product: l.product.name, quantity: l.quantity })),
      });
    }
  }, 120_000);

  it('sums of quote totals and line quantities at every group level', async () => {
    const keys: Key[] = [
      'Quotes.quotestage',
      'Quotes.carrier',
      'Accounts.accountname',
      'Products.productname',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(keys, { maxLength: 3 }).chain((ks) => fc.shuffledSubarray(ks, { minLength: ks.length })),
        fc.boolean(),
        async (groupBy, withLines) => {
          const definition = {
            type: 'summary',
            primary: 'Quotes',
            related: [
              { module: 'LineItems' },
              { module: 'Products', from: 'LineItems', via: 'product_id' },
              { module: 'Accounts', via: 'account_id' },
            ],
            columns: withLines ? ['Quotes.subject', 'LineItems.quantity'] : ['Quotes.subject'],
            groupBy,
            aggregates: [
              { fn: 'sum', field: 'Quotes.hdnGrandTotal' },
              { fn: 'sum', field: 'Quotes.hdnSubTotal' },
              { fn: 'count' },
              { fn: 'sum', field: 'LineItems.quantity' },
              { fn: 'count', field: 'LineItems.quantity' },
              { fn: 'avg', field: 'LineItems.quantity' },
              { fn: 'min', field: 'LineItems.quantity' },
              { fn: 'max', field: 'LineItems.quantity' },
              { fn: 'avg', field: 'Quotes.hdnGrandTotal' },
            ],
          };
          const res = await h.request({
            method: 'POST',
            url: '/api/v1/reports/run',
            as: h.admin,
            payload: { definition },
          });
          expectStatus(res, 200);
          const body = res.json() as {
            groups: Array<{ level: number; keys: unknown[]; values: Array<number | null> }>;
            totals: Array<number | null>;
            totalRecords: number;
            totalRows: number;
          };
          const want = expected(quotes, groupBy);
          const got = [{ level: 0, keys: [] as unknown[], values: body.totals }, ...body.groups];
          expect(got.length).toBe(want.size);
          for (const g of got) {
            const w = want.get(JSON.stringify([g.level, ...g.keys]));
            expect(w, `group ${JSON.stringify(g.keys)}`).toBeDefined();
            expect(g.values[0]).toBeCloseTo(w!.total, 6);
            expect(g.values[1]).toBeCloseTo(w!.sub, 6);
            expect(g.values[2]).toBe(w!.count);
            if (w!.qty === null) expect(g.values[3]).toBeNull();
            else expect(g.values[3]).toBeCloseTo(w!.qty, 6);
            expect(g.values[4]).toBe(w!.lines);
            if (w!.qty === null) expect(g.values[5]).toBeNull();
            else expect(g.values[5]).toBeCloseTo(w!.qty / w!.lines, 6);
            expect(g.values[6]).toBe(w!.minQty);
            expect(g.values[7]).toBe(w!.maxQty);
            expect(g.values[8]).toBeCloseTo(w!.avgTotal, 6);
          }
          expect(body.totalRecords).toBe(quotes.length);
          expect(body.totalRows).toBe(quotes.reduce((a, q) => a + Math.max(1, q.lines.length), 0));
        },
      ),
      { numRuns: RUNS, seed: 7 },
    );
  }, 120_000);
});
