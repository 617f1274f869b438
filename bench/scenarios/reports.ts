import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pg from 'pg';
import { parseConfig } from '../../src/config.js';
import { type AppContext, closeContext, createContext } from '../../src/context.js';
import { openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/platform/logger.js';
import { reportDefinitionSchema } from '../../src/reports/report-definition.js';
import { openReportRows, runReport } from '../../src/reports/report-runner.js';
import { principalFor } from '../../src/roles/principal.js';
import { ensureInitialAdmin } from '../../src/users/bootstrap.js';
import { findUserById } from '../../src/users/user.repository.js';
import type { Scenario } from '../lib.js';

/** Quotes to generate (each with 0–13 lines, about 6.7 on average): REPORTS_BENCH_QUOTES, default 150,000. */
const QUOTES = Number(process.env.REPORTS_BENCH_QUOTES ?? 150_000);
const PG_URL = process.env.RAPPORT_BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
const STAGES = ['Created', 'Delivered', 'Reviewed', 'Accepted', 'Rejected'];

const summary = reportDefinitionSchema.parse({
  type: 'summary',
  primary: 'Quotes',
  related: [{ module: 'LineItems' }, { module: 'Accounts', via: 'account_id' }],
  groupBy: ['Accounts.accountname', 'Quotes.quotestage'],
  aggregates: [
    { fn: 'sum', field: 'Quotes.hdnGrandTotal' },
    { fn: 'sum', field: 'LineItems.quantity' },
    { fn: 'count' },
  ],
});
const lines = reportDefinitionSchema.parse({
  primary: 'Quotes',
  related: [{ module: 'LineItems' }],
  columns: ['Quotes.subject', 'Quotes.quotestage', 'LineItems.quantity', 'LineItems.net_price'],
});

/** Bulk rows straight into the tables (the record service would take minutes for a million lines). */
async function seed(ctx: AppContext, ownerId: number): Promise<number> {
  const db = ctx.db.kysely;
  const now = Date.now();
  const accounts = 200;
  const productIds: number[] = [];
  const accountIds: number[] = [];
  const entity = (module: string, label: string) => ({
    module,
    owner_id: ownerId,
    created_by: ownerId,
    modified_by: ownerId,
    created_at: now,
    modified_at: now,
    deleted_at: null,
    version: 1,
    label,
  });
  for (let i = 0; i < accounts; i++) {
    const e = await db
      .insertInto('crm_entities')
      .values(entity('Accounts', `Org ${i}`))
      .returning('id')
      .executeTakeFirstOrThrow();
    await (db as never as import('kysely').Kysely<Record<string, Record<string, unknown>>>)
      .insertInto('crm_accounts')
      .values({ id: e.id, accountname: `Org ${String(i).padStart(3, '0')}`, account_no: `ACC${i}` })
      .execute();
    accountIds.push(e.id);
  }
  for (let i = 0; i < 20; i++) {
    const e = await db
      .insertInto('crm_entities')
      .values(entity('Products', `P${i}`))
      .returning('id')
      .executeTakeFirstOrThrow();
    await (db as never as import('kysely').Kysely<Record<string, Record<string, unknown>>>)
      .insertInto('crm_products')
      .values({ id: e.id, productname: `P${i}`, product_no: `PRO${i}`, unit_price: 1 + i })
      .execute();
    productIds.push(e.id);
  }
  let lineCount = 0;
  const batch = 500;
  const untyped = db as never as import('kysely').Kysely<Record<string, Record<string, unknown>>>;
  for (let start = 0; start < QUOTES; start += batch) {
    await db.transaction().execute(async (trx) => {
      const n = Math.min(batch, QUOTES - start);
      const ids = await trx
        .insertInto('crm_entities')
        .values(Array.from({ length: n }, (_, k) => entity('Quotes', `Quote ${start + k}`)))
        .returning('id')
        .execute();
      const quoteRows: Record<string, unknown>[] = [];
      const lineRows: Record<string, unknown>[] = [];
      ids.forEach(({ id }, k) => {
        const q = start + k;
        const count = (q * 7919) % 14;
        let sub = 0;
        for (let s = 0; s < count; s++) {
          const qty = 1 + ((q + s) % 5);
          const price = 1 + ((q * 31 + s) % 20);
          sub += qty * price;
          lineRows.push({
            quote_id: id,
            sequence_no: s + 1,
            product_id: productIds[(q + s) % productIds.length],
            quantity: qty,
            listprice: price,
            discount_percent: null,
            discount_amount: null,
            comment: null,
            net_price: qty * price,
          });
        }
        quoteRows.push({
          id,
          subject: `Quote ${q}`,
          quote_no: `QUO${q}`,
          quotestage: STAGES[q % STAGES.length],
          account_id: accountIds[q % accounts],
          bill_street: 'x',
          ship_street: 'x',
          hdnSubTotal: sub,
          pre_tax_total: sub,
          hdnGrandTotal: sub,
        });
      });
      await (trx as never as typeof untyped).insertInto('crm_quotes').values(quoteRows).execute();
      for (let o = 0; o < lineRows.length; o += 1000)
        await (trx as never as typeof untyped)
          .insertInto('quote_line_items')
          .values(lineRows.slice(o, o + 1000))
          .execute();
      lineCount += lineRows.length;
    });
  }
  return lineCount;
}

async function measure(kind: 'sqlite' | 'postgres') {
  const config = {
    ...parseConfig({ LOG_LEVEL: 'warn' }),
    dataDir: mkdtempSync(path.join(tmpdir(), 'rapport-bench-')),
    secretKeyHex: randomBytes(32).toString('hex'),
    fastPasswordHashing: true,
    adminPassword: 'bench-admin-password',
  };
  let schema: string | undefined;
  let db: ReturnType<typeof openDatabase>;
  if (kind === 'sqlite') db = openDatabase({ kind: 'sqlite', file: path.join(config.dataDir, 'bench.db') });
  else {
    schema = `bench_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
    db = openDatabase({ kind: 'postgres', url: PG_URL!, schema, poolSize: 4, statementTimeoutMs: 120_000 });
  }
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const ctx = await createContext(config, { db, logger: createLogger('warn', sink) });
  try {
    await ensureInitialAdmin(ctx);
    const admin = (
      await ctx.db.kysely
        .selectFrom('users')
        .select('id')
        .where('username', '=', 'admin')
        .executeTakeFirstOrThrow()
    ).id;
    const t0 = performance.now();
    const lineCount = await seed(ctx, admin);
    const seedMs = performance.now() - t0;
    if (kind === 'postgres') await sql`analyze`.execute(db.kysely);
    const p = await principalFor(ctx, (await findUserById(ctx.db.kysely, admin))!);
    const times: number[] = [];
    let groups = 0;
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      const res = await runReport(ctx, p, summary);
      times.push(performance.now() - s);
      groups = res.groups.length;
    }
    const rss0 = process.memoryUsage().rss;
    let maxRss = rss0;
    let rows = 0;
    const e0 = performance.now();
    const { chunks } = await openReportRows(ctx, p, lines);
    for await (const chunk of chunks()) {
      rows += chunk.length;
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
    const exportMs = performance.now() - e0;
    return {
      quotes: QUOTES,
      lineItems: lineCount,
      seedSeconds: Math.round(seedMs / 100) / 10,
      groupedReportMs: { best: Math.round(Math.min(...times)), all: times.map(Math.round) },
      groups,
      exportRows: rows,
      exportSeconds: Math.round(exportMs / 100) / 10,
      exportRssGrowthMb: Math.round((maxRss - rss0) / 1e6),
    };
  } finally {
    await closeContext(ctx);
    if (schema) {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    }
  }
}

/**
 * Issue 13: a summary report grouped by organization and quote stage, with quote totals and line-item
 * quantity sums, over generated quotes and lines; and the rows export (one row per line) with its memory.
 */
export const reports: Scenario = {
  name: 'reports',
  description: `grouped quote report and line-item export over ${QUOTES} generated quotes (SQLite${PG_URL ? ' and PostgreSQL' : ''})`,
  async run() {
    const out: Record<string, unknown> = { sqlite: await measure('sqlite') };
    if (PG_URL) out.postgres = await measure('postgres');
    return out;
  },
};
