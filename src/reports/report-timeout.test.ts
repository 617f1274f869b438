import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, errorCode, expectStatus, Harness } from '../../test/harness.js';

const QUOTES = 30_000;
const LINES_PER_QUOTE = 7;

/** Bulk rows straight into the tables (the record service would take minutes), on both databases. */
async function seed(h: Harness): Promise<void> {
  const product = await h.request({
    method: 'POST',
    url: '/api/v1/records/Products',
    as: h.admin,
    payload: { productname: 'Widget', unit_price: 2 },
  });
  expectStatus(product, 201);
  const productId = (product.json() as { id: number }).id;
  const owner = h.admin.userId;
  const db = h.ctx.db.kysely;
  await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${sql.lit(QUOTES)})
    insert into crm_entities (module, owner_id, created_by, modified_by, created_at, modified_at, deleted_at, version, label)
    select 'Quotes', ${owner}, ${owner}, ${owner}, 0, 0, null, 1, 'Quote ' || cast(i as text) from n`.execute(
    db,
  );
  await sql`insert into crm_quotes (id, subject, quote_no, quotestage, bill_street, ship_street, "hdnSubTotal", pre_tax_total, "hdnGrandTotal")
    select id, label, 'Q' || cast(id as text), case when id % 3 = 0 then 'Created' when id % 3 = 1 then 'Accepted' else null end,
      'x', 'x', id % 100, id % 100, id % 100
    from crm_entities where module = 'Quotes'`.execute(db);
  await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${sql.lit(LINES_PER_QUOTE)})
    insert into quote_line_items (quote_id, sequence_no, product_id, quantity, listprice, net_price, comment)
    select q.id, n.i, ${productId}, n.i, 2, 2 * n.i, 'line ' || cast(q.id * 7 + n.i as text)
    from crm_quotes q cross join n`.execute(db);
  if (h.dialect === 'postgres') await sql`analyze`.execute(db);
}

/** One row per line item, sorted on a text column: a sort over every line (≈ 210,000) on each run. */
const slow = {
  primary: 'Quotes',
  related: [{ module: 'LineItems' }],
  columns: ['Quotes.subject', 'LineItems.comment', 'LineItems.quantity'],
  sort: [{ field: 'LineItems.comment', desc: true }],
  groupBy: ['Quotes.quotestage'],
  aggregates: [
    { fn: 'sum', field: 'Quotes.hdnGrandTotal' },
    { fn: 'sum', field: 'LineItems.quantity' },
  ],
};

const runReport = (h: Harness, definition: object) =>
  h.request({ method: 'POST', url: '/api/v1/reports/run', as: h.admin, payload: { definition } });

/**
 * Issue 13: "a report that would run too long is stopped by a statement timeout (PostgreSQL) or a
 * progress-handler limit (SQLite) with a clear error, and never blocks other requests." SQLite runs on a
 * database file here, as in production, so report statements go to the report workers.
 */
describe.each(DIALECTS)('a report that runs too long [%s]', (dialect) => {
  const h = new Harness(dialect, { sqliteFile: true });
  beforeAll(async () => {
    await h.start();
    await seed(h);
  }, 120_000);
  afterAll(() => h.stop());

  it('is stopped at the time limit with 503 REPORT_TOO_SLOW; the server keeps answering', async () => {
    expectStatus(await runReport(h, slow), 200); // the report works, and on SQLite a worker is up
    h.ctx.config.reports.timeoutMs = 1;
    try {
      const res = await runReport(h, slow);
      expect(res.statusCode).toBe(503);
      expect(errorCode(res)).toBe('REPORT_TOO_SLOW');
      expect((res.json() as { error: { message: string } }).error.message).toMatch(
        /ran longer than 1 ms and was stopped/,
      );
      // the CSV export too: a clear 503 before the download starts
      const saved = await h.request({
        method: 'POST',
        url: '/api/v1/reports',
        as: h.admin,
        payload: { name: 'Lines', definition: slow },
      });
      expectStatus(saved, 201);
      const id = (saved.json() as { id: number }).id;
      const csv = await h.request({ method: 'GET', url: `/api/v1/reports/${id}/export.csv`, as: h.admin });
      expect(csv.statusCode).toBe(503);
      expect(errorCode(csv)).toBe('REPORT_TOO_SLOW');
    } finally {
      h.ctx.config.reports.timeoutMs = 20_000;
    }
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: h.admin }), 200);
    // a new worker took the stopped one's place
    const again = await runReport(h, slow);
    expectStatus(again, 200);
    expect((again.json() as { totalRows: number }).totalRows).toBe(QUOTES * LINES_PER_QUOTE);
  }, 60_000);

  it('the CSV export streams every row, batch after batch, in the order of the run', async () => {
    const definition = { ...slow, filter: { field: 'Quotes.hdnGrandTotal', op: 'lt', value: 2 } };
    const run = await runReport(h, definition);
    expectStatus(run, 200);
    const body = run.json() as { totalRows: number; rows: unknown[][] };
    expect(body.totalRows).toBeGreaterThan(4000); // more than two export batches of 2,000
    const saved = await h.request({
      method: 'POST',
      url: '/api/v1/reports',
      as: h.admin,
      payload: { name: 'Cheap quotes', definition },
    });
    expectStatus(saved, 201);
    const csv = await h.request({
      method: 'GET',
      url: `/api/v1/reports/${(saved.json() as { id: number }).id}/export.csv`,
      as: h.admin,
    });
    expectStatus(csv, 200);
    const lines = csv.body.trimEnd().split('\n');
    expect(lines.length).toBe(body.totalRows + 1);
    expect(lines.slice(1, 1001).map((l) => l.split(',')[1])).toEqual(body.rows.map((r) => r[1]));
  }, 60_000);

  it.runIf(dialect === 'sqlite')(
    'SQLite: while a report runs on a worker, other requests are answered',
    async () => {
      const pool = h.ctx.db.readPool;
      expect(pool, 'a SQLite file has report workers').toBeDefined();
      let reportDone = 0;
      const report = runReport(h, slow).then((res) => {
        reportDone = performance.now();
        return res;
      });
      const started = performance.now();
      while (pool!.active === 0) {
        if (performance.now() - started > 10_000) throw new Error('the report never reached a worker');
        await new Promise((r) => setTimeout(r, 1));
      }
      const me = await h.request({ method: 'GET', url: '/api/v1/me', as: h.admin });
      const meDone = performance.now();
      expectStatus(me, 200);
      expectStatus(await report, 200);
      expect(meDone).toBeLessThan(reportDone);
    },
    60_000,
  );

  it.runIf(dialect === 'sqlite')(
    'SQLite: the workers answer what the serving connection answers (run and CSV)',
    async () => {
      const definitions = [
        slow,
        { ...slow, columns: [], sort: [], groupBy: ['Quotes.quotestage', 'LineItems.quantity'] },
        {
          primary: 'Quotes',
          columns: ['Quotes.subject', 'Quotes.hdnGrandTotal'],
          filter: { field: 'Quotes.quotestage', op: 'eq', value: 'Accepted' },
          sort: [{ field: 'Quotes.hdnGrandTotal' }],
          aggregates: [{ fn: 'avg', field: 'Quotes.hdnGrandTotal' }, { fn: 'count' }],
        },
      ];
      const saved = await h.request({
        method: 'POST',
        url: '/api/v1/reports',
        as: h.admin,
        payload: {
          name: 'Small',
          definition: { ...slow, filter: { field: 'Quotes.hdnGrandTotal', op: 'lt', value: 2 } },
        },
      });
      expectStatus(saved, 201);
      const csvUrl = `/api/v1/reports/${(saved.json() as { id: number }).id}/export.csv`;
      const answers = async () => {
        const out: string[] = [];
        for (const d of definitions) {
          const res = await runReport(h, d);
          expectStatus(res, 200);
          out.push(res.body);
        }
        const csv = await h.request({ method: 'GET', url: csvUrl, as: h.admin });
        expectStatus(csv, 200);
        out.push(csv.body);
        return out;
      };
      const pool = h.ctx.db.readPool;
      const onWorkers = await answers();
      h.ctx.db.readPool = undefined;
      try {
        const inProcess = await answers();
        expect(onWorkers).toEqual(inProcess);
      } finally {
        h.ctx.db.readPool = pool;
      }
      expect(onWorkers[3]!.split('\n').length).toBeGreaterThan(2000); // more than one export batch
    },
    60_000,
  );
});
