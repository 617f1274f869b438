import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { FieldDef } from './field.types.js';
import { coerceFieldValue, toColumn } from './field-coerce.js';
import type { ModuleMeta } from './module-meta.js';
import { recordError } from './record.errors.js';
import { assertFieldUsable, type FieldUse, type ModuleView } from './record-presenter.js';

export const FILTER_OPS = [
  'eq',
  'ne',
  'lt',
  'lte',
  'gt',
  'gte',
  'contains',
  'startswith',
  'in',
  'empty',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** A condition tree; REST filters are one `and` of conditions, VTQL WHERE clauses may nest and/or. */
export type RecordFilter =
  | { field: string; op: FilterOp; value: unknown }
  | { and: RecordFilter[] }
  | { or: RecordFilter[] };

const TEXT_TYPES = new Set(['string', 'text', 'email', 'phone', 'url', 'picklist', 'multipicklist']);
const MAX_IN = 100;

/** Fields stored on the entity row, by column: every one of them is NOT NULL (migration 0003). */
const ENTITY_FIELD_COLUMNS: ReadonlyMap<string, string> = new Map([
  ['assigned_user_id', 'e.owner_id'],
  ['createdtime', 'e.created_at'],
  ['modifiedtime', 'e.modified_at'],
  ['modifiedby', 'e.modified_by'],
]);

/** Whether a field's column can hold no null (the id and the entity row's fields). */
export const fieldNeverNull = (name: string): boolean => name === 'id' || ENTITY_FIELD_COLUMNS.has(name);

/** `id` and the system fields live on crm_entities (alias `e`); other fields on the module table (`m`). */
export function fieldColumn(meta: ModuleMeta, name: string): RawBuilder<unknown> {
  if (name === 'id') return sql.ref('e.id');
  const entityColumn = ENTITY_FIELD_COLUMNS.get(name);
  if (entityColumn) return sql.ref(entityColumn);
  if (!meta.fieldMap.has(name))
    throw recordError('FILTER_INVALID', `${meta.singular} has no field "${name}".`);
  return sql.ref(`m.${name}`);
}

/** The column of a field the viewer may `use` (FIELD_MASKED otherwise), for queries built elsewhere. */
export function queryColumn(view: ModuleView, name: string, use: FieldUse): RawBuilder<unknown> {
  const col = fieldColumn(view.meta, name);
  assertFieldUsable(view, name, use);
  return col;
}

export function filterField(meta: ModuleMeta, name: string): FieldDef {
  if (name === 'id')
    return {
      name: 'id',
      label: 'Id',
      type: 'reference',
      mandatory: false,
      editable: false,
      storage: 'entity',
    };
  const field = meta.fieldMap.get(name);
  if (!field) throw recordError('FILTER_INVALID', `${meta.singular} has no field "${name}".`);
  return field;
}

function operand(field: FieldDef, raw: unknown): string | number | null {
  const c = coerceFieldValue(field, raw);
  if (!c.ok) throw recordError('FILTER_INVALID', `Filter on ${field.name}: the value ${c.problem}.`);
  return toColumn(field, c.value);
}

function likePattern(raw: unknown, field: FieldDef, prefixOnly: boolean): string {
  if (!TEXT_TYPES.has(field.type))
    throw recordError(
      'FILTER_INVALID',
      `Filter on ${field.name}: contains and startswith work on text fields only.`,
    );
  if (typeof raw !== 'string' && typeof raw !== 'number')
    throw recordError('FILTER_INVALID', `Filter on ${field.name}: the value must be text.`);
  if (String(raw).includes('\0'))
    throw recordError(
      'FILTER_INVALID',
      `Filter on ${field.name}: the value must not contain NUL characters.`,
    );
  const escaped = String(raw)
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`);
  return prefixOnly ? `${escaped}%` : `%${escaped}%`;
}

/** Compiles a filter to a parameterised condition; every value is bound, never spliced into SQL. */
export function compileFilter(view: ModuleView, filter: RecordFilter): Expression<SqlBool> {
  if ('and' in filter || 'or' in filter) {
    const parts = ('and' in filter ? filter.and : filter.or).map((f) => compileFilter(view, f));
    if (parts.length === 0) return sql<SqlBool>`1 = 1`;
    return sql<SqlBool>`(${sql.join(parts, sql.raw('and' in filter ? ' and ' : ' or '))})`;
  }
  const field = filterField(view.meta, filter.field);
  const col = queryColumn(view, filter.field, 'filter');
  const { op, value } = filter;
  switch (op) {
    case 'eq':
    case 'ne': {
      const v = operand(field, value);
      if (v === null) return op === 'eq' ? sql<SqlBool>`${col} is null` : sql<SqlBool>`${col} is not null`;
      return op === 'eq' ? sql<SqlBool>`${col} = ${v}` : sql<SqlBool>`(${col} <> ${v} or ${col} is null)`;
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const v = operand(field, value);
      if (v === null) throw recordError('FILTER_INVALID', `Filter on ${field.name}: ${op} needs a value.`);
      const cmp = { lt: '<', lte: '<=', gt: '>', gte: '>=' }[op];
      return sql<SqlBool>`${col} ${sql.raw(cmp)} ${v}`;
    }
    case 'contains':
    case 'startswith':
      return sql<SqlBool>`lower(${col}) like ${likePattern(value, field, op === 'startswith')} escape '\\'`;
    case 'in': {
      const items = Array.isArray(value) ? value : String(value ?? '').split(',');
      if (items.length === 0 || items.length > MAX_IN)
        throw recordError('FILTER_INVALID', `Filter on ${field.name}: in takes 1 to ${MAX_IN} values.`);
      const vs = items.map((x) => operand(field, typeof x === 'string' ? x.trim() : x));
      const nonNull = vs.filter((x): x is string | number => x !== null);
      const hasNull = nonNull.length < vs.length;
      if (!nonNull.length) return sql<SqlBool>`${col} is null`;
      const inList = sql<SqlBool>`${col} in (${sql.join(nonNull)})`;
      return hasNull ? sql<SqlBool>`(${inList} or ${col} is null)` : inList;
    }
    case 'empty': {
      const want = coerceFieldValue({ ...field, type: 'boolean' }, value);
      if (!want.ok || want.value === null)
        throw recordError('FILTER_INVALID', `Filter on ${field.name}: empty takes true or false.`);
      const isEmpty = TEXT_TYPES.has(field.type)
        ? sql<SqlBool>`(${col} is null or ${col} = '')`
        : sql<SqlBool>`${col} is null`;
      return want.value ? isEmpty : sql<SqlBool>`not ${isEmpty}`;
    }
  }
}

/**
 * REST filters: query keys `filter[field][op]=value` (op defaults to eq). Anything malformed is a 400
 * that names the key; values stay data.
 */
export function parseRestFilters(query: Record<string, unknown>): RecordFilter {
  const conditions: RecordFilter[] = [];
  for (const [key, raw] of Object.entries(query)) {
    if (!key.startsWith('filter')) continue;
    const m = /^filter\[([A-Za-z0-9_]{1,64})\](?:\[([a-z]{1,16})\])?$/.exec(key);
    if (!m)
      throw recordError(
        'FILTER_INVALID',
        `"${key.slice(0, 80)}" is not a filter; write filter[field][op]=value.`,
      );
    const op = (m[2] ?? 'eq') as FilterOp;
    if (!FILTER_OPS.includes(op))
      throw recordError(
        'FILTER_INVALID',
        `Unknown filter operator "${op}"; use one of ${FILTER_OPS.join(', ')}.`,
      );
    for (const value of Array.isArray(raw) ? raw : [raw]) conditions.push({ field: m[1]!, op, value });
  }
  if (conditions.length > 20) throw recordError('FILTER_INVALID', 'At most 20 filters per request.');
  return { and: conditions };
}
