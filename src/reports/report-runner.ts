import { type RawBuilder, sql } from 'kysely';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import { type ReadResult, ReadTimeoutError } from '../db/sqlite-read-pool.js';
import { type FieldValue, fromColumn } from '../records/field-coerce.js';
import { presentValue } from '../records/record-presenter.js';
import type { Principal } from '../roles/permissions.js';
import { reportError } from './report.errors.js';
import {
  type CompiledMeasure,
  type CompiledReport,
  childIdExpr,
  compileReport,
  exprOf,
  type FieldRef,
  fromWhere,
  orderTerms,
} from './report-compiler.js';
import type { ReportDefinition } from './report-definition.js';
import { labelReferences } from './report-labels.js';

export const SCREEN_ROW_LIMIT = 1000;
export const EXPORT_CHUNK = 2000;
/** the default report time limit (REPORT_TIMEOUT_SECONDS) */
export const REPORT_STATEMENT_TIMEOUT_MS = 20_000;

export interface ReportColumn {
  key: string;
  label: string;
  type: string;
}

export interface ReportGroup {
  /** 1 = the first group-by field… */
  level: number;
  keys: FieldValue[];
  /** distinct primary records in the group */
  records: number;
  values: Array<number | string | null>;
}

export interface ReportResult {
  columns: ReportColumn[];
  rows: FieldValue[][];
  /** rows in the whole result (one per child row when the report shows a one-to-many source) */
  totalRows: number;
  /** distinct primary records in the result */
  totalRecords: number;
  /** the one-to-many source whose rows the result has, e.g. "LineItems": one row per line item */
  rowsPer: string | null;
  offset: number;
  groupBy: ReportColumn[];
  aggregates: Array<{ key: string; label: string; fn: string }>;
  groups: ReportGroup[];
  totals: Array<number | string | null>;
}

type Row = Record<string, unknown>;

/** The report time limit (REPORT_TIMEOUT_SECONDS), in milliseconds. */
export function reportTimeoutMs(ctx: AppContext): number {
  return ctx.config.reports?.timeoutMs ?? REPORT_STATEMENT_TIMEOUT_MS;
}

function tooSlow(ms: number) {
  return reportError(
    'REPORT_TOO_SLOW',
    `The report ran longer than ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`} and was stopped; add filters or fewer groups.`,
  );
}

/** Rows from a report worker (arrays) as objects by column name (our own aliases: __pid, v0, g0, a0…). */
function objects(res: ReadResult): Row[] {
  const cols = res.columns;
  return res.rows.map((values) => {
    const o: Row = {};
    for (let i = 0; i < cols.length; i++) o[cols[i]!] = values[i];
    return o;
  });
}

/**
 * Runs one report run's statements under the report time limit; a timeout is a clear 503
 * REPORT_TOO_SLOW, not a 500. PostgreSQL: one transaction with `SET LOCAL statement_timeout`. SQLite on
 * a file: one read transaction on a report worker thread (`db.readPool`), so the event loop stays free
 * and the limit can stop it. SQLite in memory (tests only): on the serving connection, without a limit.
 */
async function readStatements(ctx: AppContext, statements: RawBuilder<Row>[]): Promise<Row[][]> {
  const ms = reportTimeoutMs(ctx);
  const pool = ctx.db.readPool;
  try {
    if (pool) {
      const results = await pool.all(
        statements.map((s) => s.compile(ctx.db.kysely)),
        ms,
      );
      return results.map(objects);
    }
    if (ctx.db.dialect !== 'postgres') {
      const out: Row[][] = [];
      for (const s of statements) out.push((await s.execute(ctx.db.kysely)).rows);
      return out;
    }
    return await transaction(ctx.db.kysely, async (trx) => {
      await sql`set local statement_timeout = ${sql.raw(String(Math.max(1, Math.round(ms))))}`.execute(trx);
      const out: Row[][] = [];
      for (const s of statements) out.push((await s.execute(trx)).rows);
      return out;
    });
  } catch (err) {
    if (err instanceof ReadTimeoutError || (err as { code?: unknown }).code === '57014') throw tooSlow(ms);
    throw err;
  }
}

function columnOf(ref: FieldRef): ReportColumn {
  const label = ref.source.from ? `${ref.source.meta.singular}: ${ref.field.label}` : ref.field.label;
  return { key: ref.key, label, type: ref.field.type };
}

/** A stored value as the viewer may see it (masking happens here, per cell and per group key). */
function presentCell(ref: FieldRef, raw: unknown): FieldValue {
  return presentValue(ref.source.view, ref.name, fromColumn(ref.field, raw));
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

function presentMeasure(m: CompiledMeasure, raw: unknown): number | string | null {
  if (raw === null || raw === undefined) return m.fn === 'count' ? 0 : null;
  if (m.fn === 'count') return Number(raw);
  if (m.fn === 'sum' || m.fn === 'avg') return round(Number(raw));
  // min/max keep the field's type (a date stays a date), and masking
  const v = presentCell(m.ref!, raw);
  return Array.isArray(v) ? v.join(', ') : typeof v === 'boolean' ? String(v) : v;
}

/** The detail rows' SELECT … ORDER BY: group keys first (summary reports), then the sort keys, then ids. */
function rowsQuery(
  r: CompiledReport,
  limit: number | null,
  offset: number,
): RawBuilder<Record<string, unknown>> {
  const cols = r.columns.map((c, i) => sql`${exprOf(c)} as ${sql.ref(`v${i}`)}`);
  const order = [
    ...r.groups.flatMap((g) => orderTerms(r, g, r.sort.find((s) => s.ref.key === g.key)?.desc ?? false)),
    ...r.sort.flatMap((s) => orderTerms(r, s.ref, s.desc)),
    sql`e.id asc`,
    ...(r.fanOut ? [sql`${childIdExpr(r)} asc`] : []),
  ];
  return sql<
    Record<string, unknown>
  >`select e.id as __pid${cols.length ? sql`, ${sql.join(cols)}` : sql``} ${fromWhere(r)} order by ${sql.join(order)} limit ${limit} offset ${offset}`;
}

/** Rows and distinct primary records of the report (a fanned-out report counts its primary rows apart). */
function countQuery(r: CompiledReport): RawBuilder<Row> {
  return r.fanOut
    ? sql<Row>`select (select count(*) ${fromWhere(r)}) as n, (select count(*) ${fromWhere(r, 'primary')}) as p`
    : sql<Row>`select count(*) as n, count(*) as p ${fromWhere(r)}`;
}

/**
 * The aggregate expression of one measure over the report's row set `t`. Amounts of a record above the
 * fanned-out child are taken once per (primary record, child group keys) — the row numbered 1 — so a quote's
 * total counts once however many line items it has.
 */
function measureExpr(r: CompiledReport, m: CompiledMeasure, i: number, level: number): RawBuilder<unknown> {
  if (!m.ref) return r.fanOut ? sql`count(distinct t.__pid)` : sql`count(*)`;
  const v = sql.ref(`t.m${i}`);
  const once = r.fanOut && m.ref.source.grain === 'primary';
  const x = once ? sql`case when ${sql.ref(`t.rn${level}`)} = 1 then ${v} end` : v;
  switch (m.fn) {
    case 'count':
      return sql`count(${x})`;
    case 'sum':
      return sql`sum(${x})`;
    case 'avg':
      return r.dialect === 'postgres' ? sql`cast(avg(${x}) as double precision)` : sql`avg(${x})`;
    case 'min':
      return sql`min(${v})`;
    case 'max':
      return sql`max(${v})`;
  }
}

/** Group keys all at the primary record's grain: each primary record falls in exactly one group per level. */
function groupsOnPrimary(r: CompiledReport): boolean {
  return r.groups.every((g) => g.source.grain === 'primary');
}

/** The ORDER BY of the stacked levels: level, then each group key (NULL last, text in byte order). */
function levelOrder(r: CompiledReport): RawBuilder<unknown>[] {
  const order = r.groups.flatMap((g, i) => {
    const desc = r.sort.find((s) => s.ref.key === g.key)?.desc ?? false;
    const dir = sql.raw(desc ? 'desc' : 'asc');
    const k = sql.ref(`u.g${i}`);
    const text =
      r.dialect === 'postgres' &&
      !['integer', 'decimal', 'currency', 'reference', 'owner', 'datetime', 'boolean'].includes(g.field.type)
        ? sql`${k} collate "C"`
        : k;
    return [sql`(case when ${k} is null then 1 else 0 end) ${dir}`, sql`${text} ${dir}`];
  });
  return [sql`u.__level`, ...order];
}

/**
 * Grouping levels of a fanned-out report whose group keys are all at the primary grain (a Quotes report
 * grouped by organization and stage, summing quote totals and line quantities): each amount is computed
 * at its own grain first — the primary record's amounts and keys over the primary rows alone (`p`, no
 * fan-out), the child amounts pre-aggregated per primary record (`c`: sum, count, min, max of its lines)
 * — and the one-row-per-primary-record result `t` is grouped by all the keys once (`f`, partial sums,
 * counts, minima and maxima); every level then adds up `f`'s few rows. No row numbering over the
 * fanned-out join, and nothing to count twice: a quote is one row of `t`. Sums of partial sums equal the
 * sum over the rows; an average is the sum of sums over the sum of counts.
 */
function groupsByPrimaryQuery(r: CompiledReport): RawBuilder<Record<string, unknown>> {
  const levels = Array.from({ length: r.groups.length + 1 }, (_, i) => i);
  const pg = r.dialect === 'postgres';
  const child = (m: CompiledMeasure) => m.ref !== null && m.ref.source.grain === 'child';
  const pCols = [
    sql`e.id as __pid`,
    ...r.groups.map((g, i) => sql`${exprOf(g)} as ${sql.ref(`g${i}`)}`),
    ...r.measures.flatMap((m, i) =>
      m.ref && !child(m) ? [sql`${exprOf(m.ref)} as ${sql.ref(`m${i}`)}`] : [],
    ),
  ];
  const cCols = [sql`e.id as __pid`, sql`count(${childIdExpr(r)}) as __children`];
  for (const [i, m] of r.measures.entries()) {
    if (!child(m)) continue;
    const x = exprOf(m.ref!);
    if (m.fn === 'sum' || m.fn === 'avg') cCols.push(sql`sum(${x}) as ${sql.ref(`s${i}`)}`);
    if (m.fn === 'count' || m.fn === 'avg') cCols.push(sql`count(${x}) as ${sql.ref(`n${i}`)}`);
    if (m.fn === 'min') cCols.push(sql`min(${x}) as ${sql.ref(`s${i}`)}`);
    if (m.fn === 'max') cCols.push(sql`max(${x}) as ${sql.ref(`s${i}`)}`);
  }
  // f: t grouped by every key once, with partial aggregates; each level then sums up f's few rows
  const dbl = sql.raw(pg ? 'double precision' : 'real');
  const fCols: RawBuilder<unknown>[] = r.groups.map(
    (_, i) => sql`${sql.ref(`t.g${i}`)} as ${sql.ref(`g${i}`)}`,
  );
  const finals = r.measures.map((m, i): RawBuilder<unknown> => {
    const part = (name: string, expr: RawBuilder<unknown>) => {
      fCols.push(sql`${expr} as ${sql.ref(`${name}${i}`)}`);
      return sql.ref(`f.${name}${i}`);
    };
    if (!m.ref) return sql`sum(${part('k', sql`count(*)`)})`;
    const c = child(m);
    const v = sql.ref(c ? `t.s${i}` : `t.m${i}`);
    switch (m.fn) {
      case 'sum':
        return sql`sum(${part('k', sql`sum(${v})`)})`;
      case 'count':
        return sql`coalesce(sum(${part('k', c ? sql`sum(${sql.ref(`t.n${i}`)})` : sql`count(${v})`)}), 0)`;
      case 'avg': {
        const total = part('k', sql`sum(${v})`);
        const n = part('j', c ? sql`sum(${sql.ref(`t.n${i}`)})` : sql`count(${v})`);
        return sql`cast(sum(${total}) as ${dbl}) / nullif(sum(${n}), 0)`;
      }
      case 'min':
        return sql`min(${part('k', sql`min(${v})`)})`;
      default: // max
        return sql`max(${part('k', sql`max(${v})`)})`;
    }
  });
  fCols.push(
    sql`count(*) as __records`,
    // rows of the report: one per child, or one for a primary record without children
    sql`sum(case when t.__children > 0 then t.__children else 1 end) as __rows`,
  );
  const fKeys = r.groups.map((_, i) => sql.ref(`t.g${i}`));
  const branches = levels.map((level) => {
    const keys = r.groups.slice(0, level).map((_, i) => sql.ref(`f.g${i}`));
    const select = [
      sql`${sql.lit(level)} as __level`,
      ...r.groups.map((_, i) =>
        i < level ? sql`f.${sql.ref(`g${i}`)} as ${sql.ref(`g${i}`)}` : sql`null as ${sql.ref(`g${i}`)}`,
      ),
      ...finals.map((x, i) => sql`${x} as ${sql.ref(`a${i}`)}`),
      sql`sum(f.__records) as __records`,
      sql`sum(f.__rows) as __rows`,
    ];
    return sql`select ${sql.join(select)} from f${keys.length ? sql` group by ${sql.join(keys)}` : sql``}`;
  });
  // p and c are inlined (PostgreSQL then knows they join one to one on the primary id; materialized, it
  // guessed a huge join and spent more time compiling the query (JIT) than running it)
  return sql<Record<string, unknown>>`with p as (select ${sql.join(pCols)} ${fromWhere(r, 'primary')}),
c as (select ${sql.join(cCols)} ${fromWhere(r, 'child')} group by e.id),
t as (select p.*, c.* from p inner join c on c.__pid = p.__pid),
f as materialized (select ${sql.join(fCols)} from t${fKeys.length ? sql` group by ${sql.join(fKeys)}` : sql``})
select * from (${sql.join(branches, sql` union all `)}) u order by ${sql.join(levelOrder(r))}`;
}

/**
 * Every grouping level (0 = grand totals) in one statement: the joined rows are computed once (a
 * materialized CTE), then aggregated per level and stacked with UNION ALL. Aggregation happens in the
 * database.
 */
function groupsQuery(r: CompiledReport): RawBuilder<Record<string, unknown>> {
  if (r.fanOut && groupsOnPrimary(r)) return groupsByPrimaryQuery(r);
  const levels = Array.from({ length: r.groups.length + 1 }, (_, i) => i);
  const inner = [
    sql`e.id as __pid`,
    ...r.groups.map((g, i) => sql`${exprOf(g)} as ${sql.ref(`g${i}`)}`),
    ...r.measures.flatMap((m, i) => (m.ref ? [sql`${exprOf(m.ref)} as ${sql.ref(`m${i}`)}`] : [])),
  ];
  if (r.fanOut) {
    // rn<L>: 1 on the first row of each primary record within each level-L group
    const childKeys = (upTo: number) =>
      r.groups
        .slice(0, upTo)
        .filter((g) => g.source.grain === 'child')
        .map((g) => exprOf(g));
    for (const level of levels)
      inner.push(
        sql`row_number() over (partition by ${sql.join([sql`e.id`, ...childKeys(level)])} order by ${childIdExpr(r)}) as ${sql.ref(`rn${level}`)}`,
      );
  }
  const branches = levels.map((level) => {
    const keys = r.groups.slice(0, level).map((_, i) => sql.ref(`t.g${i}`));
    const select = [
      sql`${sql.lit(level)} as __level`,
      ...r.groups.map((_, i) =>
        i < level ? sql`t.${sql.ref(`g${i}`)} as ${sql.ref(`g${i}`)}` : sql`null as ${sql.ref(`g${i}`)}`,
      ),
      ...r.measures.map((m, i) => sql`${measureExpr(r, m, i, level)} as ${sql.ref(`a${i}`)}`),
      r.fanOut ? sql`count(distinct t.__pid) as __records` : sql`count(*) as __records`,
      sql`count(*) as __rows`,
    ];
    return sql`select ${sql.join(select)} from t${keys.length ? sql` group by ${sql.join(keys)}` : sql``}`;
  });
  return sql<
    Record<string, unknown>
  >`with t as materialized (select ${sql.join(inner)} ${fromWhere(r)}) select * from (${sql.join(branches, sql` union all `)}) u order by ${sql.join(levelOrder(r))}`;
}

export interface RunOptions {
  limit?: number;
  offset?: number;
}

/** Runs a report for one viewer: rows (a page), groups and totals, every value presented for them. */
export async function runReport(
  ctx: AppContext,
  p: Principal,
  def: ReportDefinition,
  opts: RunOptions = {},
): Promise<ReportResult> {
  const r = await compileReport(ctx, p, def);
  const limit = Math.min(opts.limit ?? SCREEN_ROW_LIMIT, SCREEN_ROW_LIMIT);
  const offset = opts.offset ?? 0;
  const grouped = r.measures.length > 0 || r.groups.length > 0;
  // a grouped run's grand-total row carries the row and record counts; otherwise they are counted alone
  const statements: RawBuilder<Row>[] = grouped ? [] : [countQuery(r)];
  if (r.columns.length > 0) statements.push(rowsQuery(r, limit, offset));
  if (grouped) statements.push(groupsQuery(r));
  const results = await readStatements(ctx, statements);
  const rows = r.columns.length > 0 ? results[grouped ? 0 : 1]! : [];
  let count = { n: 0 as unknown, p: 0 as unknown };
  const groups: ReportGroup[] = [];
  let totals: Array<number | string | null> = [];
  if (grouped) {
    for (const row of results[results.length - 1]!) {
      const level = Number(row.__level);
      const values = r.measures.map((m, i) => presentMeasure(m, row[`a${i}`]));
      if (level === 0) {
        totals = values;
        count = { n: row.__rows, p: row.__records };
      } else
        groups.push({
          level,
          keys: r.groups.slice(0, level).map((g, i) => presentCell(g, row[`g${i}`])),
          records: Number(row.__records ?? 0),
          values,
        });
    }
  } else {
    const c = results[0]![0];
    if (c) count = { n: c.n, p: c.p };
  }
  const result: ReportResult = {
    columns: r.columns.map(columnOf),
    rows: rows.map((row) => r.columns.map((c, i) => presentCell(c, row[`v${i}`]))),
    totalRows: Number(count.n ?? 0),
    totalRecords: Number(count.p ?? 0),
    rowsPer: r.fanOut?.name ?? null,
    offset,
    groupBy: r.groups.map(columnOf),
    aggregates: r.measures.map((m) => ({ key: m.key, label: m.label, fn: m.fn })),
    groups,
    totals,
  };
  // outside the timed transaction: names for reference and owner cells and group keys
  await labelReferences(ctx, p, r.columns, result.rows);
  await labelReferences(
    ctx,
    p,
    r.groups,
    result.groups.map((g) => g.keys),
  );
  return result;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // awaited later (or never, when the consumer stopped): never an unhandled rejection
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * PostgreSQL: the rows of one statement through a cursor in a transaction (DECLARE … FETCH), one batch
 * per FETCH, the next fetched only when the consumer asks (flat memory, one sort instead of one per
 * page); `statement_timeout` bounds each FETCH. Ending early commits, which closes the cursor.
 */
async function* pgCursor(ctx: AppContext, query: RawBuilder<Row>, ms: number): AsyncGenerator<Row[]> {
  let batch = deferred<{ rows: Row[]; done: boolean }>();
  let resume = deferred<boolean>();
  const run = transaction(ctx.db.kysely, async (trx) => {
    await sql`set local statement_timeout = ${sql.raw(String(Math.max(1, Math.round(ms))))}`.execute(trx);
    await sql`declare report_rows no scroll cursor for ${query}`.execute(trx);
    for (;;) {
      const { rows } = await sql<Row>`fetch ${sql.lit(EXPORT_CHUNK)} from report_rows`.execute(trx);
      const done = rows.length < EXPORT_CHUNK;
      const next = deferred<boolean>();
      resume = next;
      batch.resolve({ rows, done });
      if (done || !(await next.promise)) return;
    }
  });
  run.catch((err) => batch.reject(err));
  try {
    for (;;) {
      const { rows, done } = await batch.promise;
      batch = deferred();
      if (rows.length > 0) yield rows;
      if (done) break;
      resume.resolve(true);
    }
  } finally {
    resume.resolve(false);
    await run.catch(() => {});
  }
}

/**
 * Every row of a report, presented for the viewer, in chunks of EXPORT_CHUNK rows (flat memory), for CSV
 * export and schedules. The definition is compiled (and refused) before the first row is read; each chunk
 * is its own statement under the timeout.
 */
export async function openReportRows(
  ctx: AppContext,
  p: Principal,
  def: ReportDefinition,
): Promise<{ columns: ReportColumn[]; chunks: () => AsyncGenerator<FieldValue[][]> }> {
  const r = await compileReport(ctx, p, def);
  if (r.columns.length === 0)
    throw reportError('REPORT_INVALID', 'columns: pick at least one column to export.', {
      details: { path: 'columns' },
    });
  const ms = reportTimeoutMs(ctx);
  const present = async (raw: Row[]): Promise<FieldValue[][]> => {
    const shown = raw.map((row) => r.columns.map((c, i) => presentCell(c, row[`v${i}`])));
    await labelReferences(ctx, p, r.columns, shown);
    return shown;
  };
  async function* chunks(): AsyncGenerator<FieldValue[][]> {
    const pool = ctx.db.readPool;
    if (pool) {
      // SQLite: one statement streamed from a report worker, EXPORT_CHUNK rows at a time, each batch
      // read only when the previous one has been taken (flat memory), each within the time limit
      const stream = pool.stream(rowsQuery(r, -1, 0).compile(ctx.db.kysely), EXPORT_CHUNK, ms);
      try {
        for (;;) {
          let next: IteratorResult<ReadResult>;
          try {
            next = await stream.next();
          } catch (err) {
            if (err instanceof ReadTimeoutError) throw tooSlow(ms);
            throw err;
          }
          if (next.done) return;
          yield await present(objects(next.value));
        }
      } finally {
        // an early end (the client went away) or a failure cancels the statement and frees the worker
        await stream.return(undefined);
      }
    }
    if (ctx.db.dialect === 'postgres') {
      // one statement read through a cursor, EXPORT_CHUNK rows per FETCH (each under the time limit)
      const cursor = pgCursor(ctx, rowsQuery(r, null, 0), ms);
      try {
        for await (const rows of cursor) yield await present(rows);
      } catch (err) {
        if ((err as { code?: unknown }).code === '57014') throw tooSlow(ms);
        throw err;
      } finally {
        await cursor.return(undefined);
      }
      return;
    }
    // SQLite in memory (tests): pages on the serving connection
    for (let offset = 0; ; offset += EXPORT_CHUNK) {
      const [rows] = await readStatements(ctx, [rowsQuery(r, EXPORT_CHUNK, offset)]);
      yield await present(rows!);
      if (rows!.length < EXPORT_CHUNK) return;
    }
  }
  return { columns: r.columns.map(columnOf), chunks };
}
