import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { AppContext } from '../context.js';
import type { FieldDef } from '../records/field.types.js';
import type { ModuleMeta } from '../records/module-meta.js';
import { moduleMetaFor } from '../records/module-meta.js';
import { compileFilter, fieldColumn, type RecordFilter } from '../records/record-filter.js';
import { assertFieldUsable, type ModuleView } from '../records/record-presenter.js';
import { viewModule, visibleWhere } from '../records/record-read.service.js';
import type { Principal } from '../roles/permissions.js';
import { reportError } from './report.errors.js';
import {
  MAX_FILTER_CONDITIONS,
  MAX_FILTER_DEPTH,
  PERIODS,
  type Period,
  type ReportDefinition,
  type ReportFilter,
} from './report-definition.js';

/**
 * Compiles a report definition to SQL for one viewer. Every identifier comes from module metadata (a field
 * name not in the metadata is refused), every value is a bound parameter, and every module is read through
 * the viewer's sharing scope (`visibleWhere`) and view (masked fields cannot be filtered, grouped, sorted or
 * summed).
 *
 * Fan-out: a one-to-many source (line items, a Contact's tickets…) that contributes columns, groups or
 * aggregates is LEFT JOINed, so the result has one row per child. Measures are computed at their own grain:
 * amounts of the primary record (and of its many-to-one parents) are counted once per primary record and
 * group (`row_number() over (partition by primary id, child group keys) = 1`), child amounts once per child
 * row. Filters never join: a condition on a related source is `primary in (subquery)`, so "quotes that contain
 * product X" stays one row per quote.
 */

export const LINE_ITEMS = 'LineItems';

const lineItemFields: FieldDef[] = [
  { name: 'product_id', label: 'Product', type: 'reference', refersTo: ['Products'] },
  { name: 'sequence_no', label: 'Line No', type: 'integer' },
  { name: 'quantity', label: 'Quantity', type: 'decimal' },
  { name: 'listprice', label: 'List Price', type: 'currency' },
  { name: 'discount_percent', label: 'Line Discount %', type: 'decimal' },
  { name: 'discount_amount', label: 'Line Discount', type: 'currency' },
  { name: 'net_price', label: 'Net Price', type: 'currency' },
  { name: 'comment', label: 'Line Comment', type: 'text' },
].map((f) => ({ mandatory: false, editable: false, storage: 'module' as const, ...f }) as FieldDef);

/** Quote line items as a pseudo-module (they are rows of `quote_line_items`, read through their quote). */
export const LINE_ITEMS_META: ModuleMeta = Object.freeze({
  name: LINE_ITEMS,
  label: 'Line Items',
  singular: 'Line Item',
  wsEntityId: 0,
  table: 'quote_line_items',
  labelFields: [],
  fields: lineItemFields,
  fieldMap: new Map(lineItemFields.map((f) => [f.name, f])),
});

type Link = { dir: 'parent' | 'child'; field: string } | { dir: 'lines' };

export interface Source {
  name: string;
  meta: ModuleMeta;
  view: ModuleView;
  from: Source | null;
  link: Link | null;
  /** 'child': one row per record of a one-to-many relation (or of a parent reached through one) */
  grain: 'primary' | 'child';
  alias: string;
  /** the sharing scope of a module source, on `e`/`m` */
  visible: Expression<SqlBool>[];
  joined: boolean;
}

export interface FieldRef {
  key: string;
  source: Source;
  field: FieldDef;
  name: string;
}

export interface CompiledMeasure {
  key: string;
  fn: ReportDefinition['aggregates'][number]['fn'];
  ref: FieldRef | null;
  label: string;
}

export interface CompiledReport {
  def: ReportDefinition;
  dialect: 'sqlite' | 'postgres';
  primary: Source;
  sources: Source[];
  columns: FieldRef[];
  groups: FieldRef[];
  measures: CompiledMeasure[];
  sort: Array<{ ref: FieldRef; desc: boolean }>;
  where: Expression<SqlBool>[];
  /** the one joined one-to-many source, when there is one */
  fanOut: Source | null;
}

const NUMERIC = new Set(['integer', 'decimal', 'currency']);
const ORDERABLE = new Set(['integer', 'decimal', 'currency', 'date', 'datetime']);
const TEXT = new Set(['string', 'text', 'email', 'phone', 'url', 'picklist', 'multipicklist']);

const ID_FIELD: FieldDef = {
  name: 'id',
  label: 'Id',
  type: 'integer',
  mandatory: false,
  editable: false,
  storage: 'entity',
};

const invalid = (path: string, message: string) =>
  reportError('REPORT_INVALID', `${path}: ${message}`, { details: { path } });

export async function compileReport(
  ctx: AppContext,
  p: Principal,
  def: ReportDefinition,
): Promise<CompiledReport> {
  if (def.primary === LINE_ITEMS) throw invalid('primary', 'line items are reached from Quotes.');
  const primaryView = await viewModule(ctx, p, await moduleMetaFor(ctx, def.primary));
  const primary: Source = {
    name: def.primary,
    meta: primaryView.meta,
    view: primaryView,
    from: null,
    link: null,
    grain: 'primary',
    alias: 'e',
    visible: [],
    joined: true,
  };
  const sources = [primary];
  for (const [i, r] of def.related.entries()) {
    const path = `related[${i}]`;
    const name = r.name ?? r.module;
    if (sources.some((s) => s.name === name))
      throw invalid(path, `two sources are named "${name}"; give one a name.`);
    const from = sources.find((s) => s.name === (r.from ?? def.primary));
    if (!from) throw invalid(path, `there is no source "${r.from}" before it to start from.`);
    let link: Link;
    let meta: ModuleMeta;
    let view: ModuleView;
    if (r.module === LINE_ITEMS) {
      if (!from.meta.hasLineItems || from.link?.dir === 'lines')
        throw invalid(path, `line items are reached from a Quotes source, not from ${from.name}.`);
      meta = LINE_ITEMS_META;
      view = { meta, principal: p, masked: new Map() };
      link = { dir: 'lines' };
    } else {
      view = await viewModule(ctx, p, await moduleMetaFor(ctx, r.module));
      meta = view.meta;
      if (!r.via) throw invalid(path, 'name the reference field that relates it (via).');
      const onFrom = from.meta.fieldMap.get(r.via);
      const onTarget = meta.fieldMap.get(r.via);
      if (onFrom?.type === 'reference' && onFrom.refersTo?.includes(meta.name)) {
        link = { dir: 'parent', field: r.via };
      } else if (onTarget?.type === 'reference' && onTarget.refersTo?.includes(from.meta.name)) {
        link = { dir: 'child', field: r.via };
      } else {
        throw invalid(
          path,
          `${from.name} and ${meta.name} are not related through "${r.via}" (no such reference field).`,
        );
      }
    }
    const grain = link.dir === 'parent' ? from.grain : 'child';
    if (grain === 'child' && from.grain === 'child' && link.dir !== 'parent')
      throw invalid(path, 'a one-to-many relation cannot start from another one-to-many relation.');
    sources.push({
      name,
      meta,
      view,
      from,
      link,
      grain,
      alias: `r${i + 1}`,
      visible: link.dir === 'lines' ? [] : await visibleWhere(ctx, view),
      joined: false,
    });
  }
  primary.visible = await visibleWhere(ctx, primaryView);

  const resolve = (key: string, path: string): FieldRef => {
    const dot = key.indexOf('.');
    const sourceName = key.slice(0, dot);
    const name = key.slice(dot + 1);
    const source = sources.find((s) => s.name === sourceName);
    if (!source) throw invalid(path, `"${sourceName}" is neither the primary module nor a related source.`);
    const field = name === 'id' && source.link?.dir !== 'lines' ? ID_FIELD : source.meta.fieldMap.get(name);
    if (!field) {
      if (/^cf_\d+$/.test(name))
        throw reportError(
          'REPORT_FIELD_MISSING',
          `${path}: the custom field ${key} no longer exists; edit the report to remove it.`,
          { details: { path, field: key } },
        );
      throw invalid(path, `${source.meta.singular} has no field "${name}".`);
    }
    return { key, source, field, name };
  };

  const columns = def.columns.map((c, i) => resolve(c, `columns[${i}]`));
  const groups = def.groupBy.map((g, i) => {
    const ref = resolve(g, `groupBy[${i}]`);
    assertFieldUsable(ref.source.view, ref.name, 'group');
    return ref;
  });
  const sort = def.sort.map((s, i) => {
    const ref = resolve(s.field, `sort[${i}]`);
    assertFieldUsable(ref.source.view, ref.name, 'sort');
    return { ref, desc: s.desc };
  });
  const measures = def.aggregates.map((a, i): CompiledMeasure => {
    const path = `aggregates[${i}]`;
    if (!a.field) {
      if (a.fn !== 'count') throw invalid(path, `${a.fn} needs a field.`);
      return { key: 'count', fn: 'count', ref: null, label: `Number of ${primary.meta.label}` };
    }
    const ref = resolve(a.field, path);
    const t = ref.field.type;
    if ((a.fn === 'sum' || a.fn === 'avg') && !NUMERIC.has(t))
      throw invalid(path, `${a.fn} needs a number field; ${a.field} is ${t}.`);
    if ((a.fn === 'min' || a.fn === 'max') && !ORDERABLE.has(t))
      throw invalid(path, `${a.fn} needs a number or date field; ${a.field} is ${t}.`);
    if ((a.fn === 'sum' || a.fn === 'avg') && ref.source.view.masked.has(ref.name))
      throw reportError('REPORT_INVALID', `${path}: ${a.field} is masked for you, so it cannot be summed.`, {
        details: { path, field: a.field },
      });
    const label = `${{ count: 'Count of', sum: 'Sum of', avg: 'Average of', min: 'Lowest', max: 'Highest' }[a.fn]} ${ref.field.label}`;
    return { key: `${a.fn}(${a.field})`, fn: a.fn, ref, label };
  });

  // join the sources that show up in the result, and the ones they are reached through
  for (const ref of [
    ...columns,
    ...groups,
    ...sort.map((s) => s.ref),
    ...measures.flatMap((m) => m.ref ?? []),
  ])
    for (let s: Source | null = ref.source; s; s = s.from) s.joined = true;
  const fanOuts = new Set(sources.filter((s) => s.joined && s.grain === 'child').map((s) => childRoot(s)));
  if (fanOuts.size > 1)
    throw invalid(
      'related',
      `columns, groups or totals come from ${[...fanOuts].map((s) => s.name).join(' and ')}, two one-to-many relations; a report may show one (use the other in filters only).`,
    );
  const fanOut = [...fanOuts][0] ?? null;

  const where: Expression<SqlBool>[] = [...primary.visible];
  if (def.filter) {
    const counter = { n: 0 };
    where.push(compileReportFilter(ctx, sources, def.filter, 'filter', 0, counter, resolve));
  }
  const compiled: CompiledReport = {
    def,
    dialect: ctx.db.dialect,
    primary,
    sources,
    columns,
    groups,
    measures,
    sort,
    where,
    fanOut,
  };
  return compiled;
}

/** The one-to-many source a child-grain source hangs from (itself, or the child its parent chain starts at). */
function childRoot(s: Source): Source {
  let cur = s;
  while (cur.link?.dir === 'parent' && cur.from) cur = cur.from;
  return cur;
}

/** A field's value at the top level of the report query. */
export function exprOf(ref: FieldRef): RawBuilder<unknown> {
  return fieldAt(ref.source, ref.name);
}

/**
 * A field of a source at the top level: the primary is `e`/`m`; a related module source `rN` is
 * `crm_entities rNe ⋈ <table> rN` (system fields on `rNe`, as `fieldColumn` puts them on `e`); line items
 * are `quote_line_items rN`.
 */
function fieldAt(s: Source, name: string): RawBuilder<unknown> {
  if (s.alias === 'e') return fieldColumn(s.meta, name);
  if (s.link?.dir === 'lines') return sql.ref(`${s.alias}.${name}`);
  const entity = ENTITY_COLUMNS[name];
  if (entity) return sql.ref(`${s.alias}e.${entity}`);
  if (!s.meta.fieldMap.has(name)) throw invalid('fields', `${s.meta.singular} has no field "${name}".`);
  return sql.ref(`${s.alias}.${name}`);
}

const ENTITY_COLUMNS: Record<string, string> = {
  id: 'id',
  assigned_user_id: 'owner_id',
  createdtime: 'created_at',
  modifiedtime: 'modified_at',
  modifiedby: 'modified_by',
};

/** The LEFT JOIN of a related source: by its link, restricted to live records the viewer may see. */
function joinOf(s: Source): RawBuilder<unknown> {
  const from = s.from!;
  const link = s.link!;
  const a = s.alias;
  if (link.dir === 'lines')
    return sql`left join quote_line_items ${sql.ref(a)} on ${sql.ref(`${a}.quote_id`)} = ${fieldAt(from, 'id')}`;
  const on =
    link.dir === 'parent'
      ? sql<SqlBool>`${sql.ref(`${a}e.id`)} = ${fieldAt(from, link.field)}`
      : sql<SqlBool>`${fieldAt(s, link.field)} = ${fieldAt(from, 'id')}`;
  // the sharing scope is written on e/m: evaluate it once, as a set of visible ids
  const visible = s.visible.length
    ? sql` and ${sql.ref(`${a}e.id`)} in (select e.id from ${visibleSet(s)})`
    : sql``;
  return sql`left join (crm_entities ${sql.ref(`${a}e`)} inner join ${sql.table(s.meta.table)} ${sql.ref(a)} on ${sql.ref(`${a}.id`)} = ${sql.ref(`${a}e.id`)}) on ${on} and ${sql.ref(`${a}e.deleted_at`)} is null${visible}`;
}

/** `crm_entities e join <table> m … where <live, this module, visible>` for a module source. */
function visibleSet(s: Source): RawBuilder<unknown> {
  const conds = [sql<SqlBool>`e.module = ${s.meta.name}`, sql<SqlBool>`e.deleted_at is null`, ...s.visible];
  return sql`crm_entities e inner join ${sql.table(s.meta.table)} m on m.id = e.id where ${sql.join(conds, sql` and `)}`;
}

/**
 * FROM … WHERE … of the report's row set (one row per primary record, or per child when fanned out).
 * `only` keeps the joins of some sources: 'primary' those of the primary's grain (one row per primary
 * record), 'child' the fanned-out source and the sources it is reached through (the primary's many-to-one
 * parents join at most one row, so leaving them out changes no count). The WHERE is the same either way.
 */
export function fromWhere(r: CompiledReport, only?: 'primary' | 'child'): RawBuilder<unknown> {
  const needed = new Set<Source>();
  for (const s of r.sources)
    if (
      s.joined &&
      (only === undefined || (only === 'primary' ? s.grain === 'primary' : s.grain === 'child'))
    )
      for (let a: Source | null = s; a; a = a.from) needed.add(a);
  const joins = r.sources.filter((s) => needed.has(s) && s.from).map((s) => joinOf(s));
  const conds = [
    sql<SqlBool>`e.module = ${r.primary.meta.name}`,
    sql<SqlBool>`e.deleted_at is null`,
    ...r.where,
  ];
  return sql`from crm_entities e inner join ${sql.table(r.primary.meta.table)} m on m.id = e.id ${sql.join(joins, sql` `)} where ${sql.join(conds, sql` and `)}`;
}

/** The id of the fanned-out child of a row (null when the report does not fan out). */
export function childIdExpr(r: CompiledReport): RawBuilder<unknown> {
  return r.fanOut ? fieldAt(r.fanOut, 'id') : sql`null`;
}

/** An expression for ordering: nulls last ascending on both databases, text in byte order on both. */
export function orderTerms(r: CompiledReport, ref: FieldRef, desc: boolean): RawBuilder<unknown>[] {
  const e = exprOf(ref);
  const text = TEXT.has(ref.field.type) && r.dialect === 'postgres' ? sql`${e} collate "C"` : e;
  const dir = sql.raw(desc ? 'desc' : 'asc');
  return [sql`(case when ${e} is null then 1 else 0 end) ${dir}`, sql`${text} ${dir}`];
}

// ---- filters -------------------------------------------------------------------------------------------

function compileReportFilter(
  ctx: AppContext,
  sources: Source[],
  f: ReportFilter,
  path: string,
  depth: number,
  counter: { n: number },
  resolve: (key: string, path: string) => FieldRef,
): Expression<SqlBool> {
  if (depth > MAX_FILTER_DEPTH)
    throw invalid(path, `filters may nest at most ${MAX_FILTER_DEPTH} groups deep.`);
  if ('and' in f || 'or' in f) {
    const kind = 'and' in f ? 'and' : 'or';
    const items = 'and' in f ? f.and : f.or;
    if (items.length === 0) return sql<SqlBool>`1 = 1`;
    const parts = items.map((x, i) =>
      compileReportFilter(ctx, sources, x, `${path}.${kind}[${i}]`, depth + 1, counter, resolve),
    );
    return sql<SqlBool>`(${sql.join(parts, sql.raw(` ${kind} `))})`;
  }
  if (++counter.n > MAX_FILTER_CONDITIONS)
    throw invalid(path, `a report may have at most ${MAX_FILTER_CONDITIONS} conditions.`);
  const ref = resolve(f.field, `${path}.field`);
  const leaf: RecordFilter =
    f.op === 'period'
      ? periodFilter(ref, f.value, ctx.clock.now(), path)
      : { field: ref.name, op: f.op, value: f.value ?? null };
  let cond: Expression<SqlBool>;
  try {
    cond = compileFilter(ref.source.view, leaf);
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'FILTER_INVALID')
      throw invalid(path, err.message);
    throw err;
  }
  return liftToPrimary(ref.source, cond);
}

/** A condition on one source's own rows (aliases e/m) as a condition on the primary record. */
function liftToPrimary(s: Source, cond: Expression<SqlBool>): Expression<SqlBool> {
  if (!s.from || !s.link) return cond;
  const from = s.from;
  const inScope = (field: string) =>
    from.link?.dir === 'lines' ? sql.ref(`m.${field}`) : fieldColumn(from.meta, field);
  let lifted: Expression<SqlBool>;
  if (s.link.dir === 'lines') {
    lifted = sql<SqlBool>`${inScope('id')} in (select m.quote_id from quote_line_items m where ${cond})`;
  } else if (s.link.dir === 'parent') {
    lifted = sql<SqlBool>`${inScope(s.link.field)} in (select e.id from ${visibleSet(s)} and ${cond})`;
  } else {
    lifted = sql<SqlBool>`${inScope('id')} in (select ${fieldColumn(s.meta, s.link.field)} from ${visibleSet(s)} and ${cond})`;
  }
  return liftToPrimary(from, lifted);
}

const DAY = 86_400_000;

/** A relative period ("this month", "last 30 days") as a half-open [start, end) range, in UTC. */
export function periodRange(period: Period, now: number): [number, number] {
  const d = new Date(now);
  const today = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const weekStart = today - ((d.getUTCDay() + 6) % 7) * DAY; // weeks start on Monday
  switch (period) {
    case 'today':
      return [today, today + DAY];
    case 'yesterday':
      return [today - DAY, today];
    case 'this_week':
      return [weekStart, weekStart + 7 * DAY];
    case 'last_week':
      return [weekStart - 7 * DAY, weekStart];
    case 'this_month':
      return [Date.UTC(y, mo, 1), Date.UTC(y, mo + 1, 1)];
    case 'last_month':
      return [Date.UTC(y, mo - 1, 1), Date.UTC(y, mo, 1)];
    case 'this_quarter': {
      const q = Math.floor(mo / 3) * 3;
      return [Date.UTC(y, q, 1), Date.UTC(y, q + 3, 1)];
    }
    case 'this_year':
      return [Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1)];
    case 'last_year':
      return [Date.UTC(y - 1, 0, 1), Date.UTC(y, 0, 1)];
    case 'last_7_days':
      return [today - 6 * DAY, today + DAY];
    case 'last_30_days':
      return [today - 29 * DAY, today + DAY];
    case 'next_30_days':
      return [today, today + 30 * DAY];
  }
}

function periodFilter(ref: FieldRef, value: unknown, now: number, path: string): RecordFilter {
  const t = ref.field.type;
  if (t !== 'date' && t !== 'datetime')
    throw invalid(path, `period works on date fields; ${ref.key} is ${t}.`);
  const periods: readonly string[] = PERIODS;
  if (typeof value !== 'string' || !periods.includes(value))
    throw invalid(path, `period takes one of ${periods.join(', ')}.`);
  const [start, end] = periodRange(value as Period, now);
  const fmt = (ms: number) =>
    t === 'date'
      ? new Date(ms).toISOString().slice(0, 10)
      : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  return {
    and: [
      { field: ref.name, op: 'gte', value: fmt(start) },
      { field: ref.name, op: 'lt', value: fmt(end) },
    ],
  };
}
