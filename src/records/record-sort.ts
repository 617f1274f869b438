import { type Expression, type SqlBool, sql } from 'kysely';
import type { ModuleMeta } from './module-meta.js';
import { recordError } from './record.errors.js';
import { fieldColumn, fieldNeverNull } from './record-filter.js';
import { assertFieldUsable, type ModuleView } from './record-presenter.js';

export interface SortKey {
  field: string;
  desc: boolean;
}

const MAX_SORT_KEYS = 3;

/** `-modifiedtime,lastname` → keys; the record id is always the last, unique tie-breaker. */
export function parseSort(view: ModuleView, spec: string | undefined): SortKey[] {
  if (!spec) return [];
  const meta = view.meta;
  const keys = spec.split(',').map((part) => {
    const desc = part.startsWith('-');
    const field = desc ? part.slice(1) : part;
    if (!/^[A-Za-z0-9_]{1,64}$/.test(field))
      throw recordError('SORT_INVALID', `"${part.slice(0, 80)}" is not a field to sort by.`);
    if (!meta.fieldMap.has(field) && field !== 'id')
      throw recordError('SORT_INVALID', `${meta.singular} has no field "${field}" to sort by.`);
    // a masked sort key would order rows by the hidden value, and its cursor would carry it
    assertFieldUsable(view, field, 'sort');
    return { field, desc };
  });
  if (keys.length > MAX_SORT_KEYS)
    throw recordError('SORT_INVALID', `Sort by at most ${MAX_SORT_KEYS} fields.`);
  const idAt = keys.findIndex((k) => k.field === 'id');
  return idAt < 0 ? keys : keys.slice(0, idAt + 1);
}

/**
 * Sort keys as ordered SQL expressions: nulls last ascending (first descending) on both databases. A column
 * that holds no null is ordered by itself, so an index on it (`crm_entities(module, modified_at)` for the
 * lists' default `-modifiedtime`) gives the order: ranked by `case when … is null`, every page sorted all
 * the module's records first.
 */
export function orderExpressions(meta: ModuleMeta, keys: SortKey[]) {
  const out: Array<{ expr: Expression<unknown>; desc: boolean }> = [];
  for (const k of keys) {
    if (k.field === 'id') continue;
    const col = fieldColumn(meta, k.field);
    if (!fieldNeverNull(k.field))
      out.push({ expr: sql`(case when ${col} is null then 1 else 0 end)`, desc: k.desc });
    out.push({ expr: col, desc: k.desc });
  }
  const idDesc = keys.find((k) => k.field === 'id')?.desc ?? false;
  out.push({ expr: sql.ref('e.id'), desc: idDesc });
  return out;
}

export interface Cursor {
  /** the sort spec the cursor was made for */
  s: string;
  /** column values of the last row, one per sort key (ids excluded), then the id */
  v: Array<string | number | null>;
  id: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(raw: string, sortSpec: string, keyCount: number): Cursor {
  const fail = () =>
    recordError('CURSOR_INVALID', 'The cursor is not valid for this list; start again without it.');
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw fail();
  }
  const ok =
    typeof c === 'object' &&
    c !== null &&
    (c as Cursor).s === sortSpec &&
    Number.isSafeInteger((c as Cursor).id) &&
    Array.isArray((c as Cursor).v) &&
    (c as Cursor).v.length === keyCount &&
    (c as Cursor).v.every(
      (x) =>
        x === null ||
        (typeof x === 'string' && !x.includes('\0')) ||
        (typeof x === 'number' && Number.isFinite(x)),
    );
  if (!ok) throw fail();
  return c as Cursor;
}

/**
 * Rows strictly after the cursor in the (nulls-last) sort order: the usual keyset OR-chain
 * `k1 > v1 OR (k1 = v1 AND k2 > v2) …`, with null handled as the largest value. When the first key's column
 * holds no null, the chain goes with its bound (`k1 >= v1`), a range an index on it serves: without it a
 * later page was found by reading every row before it in the index.
 */
export function afterCursor(meta: ModuleMeta, keys: SortKey[], cursor: Cursor): Expression<SqlBool> {
  const parts = keys
    .filter((k) => k.field !== 'id')
    .map((k, i) => ({
      col: fieldColumn(meta, k.field),
      desc: k.desc,
      v: cursor.v[i] ?? null,
      neverNull: fieldNeverNull(k.field),
    }));
  const idDesc = keys.find((k) => k.field === 'id')?.desc ?? false;
  parts.push({ col: sql.ref('e.id'), desc: idDesc, v: cursor.id, neverNull: true });
  const eq = (p: (typeof parts)[number]) =>
    p.v === null ? sql<SqlBool>`${p.col} is null` : sql<SqlBool>`${p.col} = ${p.v}`;
  const after = (p: (typeof parts)[number]) => {
    if (p.v === null) return p.desc ? sql<SqlBool>`${p.col} is not null` : sql<SqlBool>`1 = 0`;
    if (p.neverNull) return p.desc ? sql<SqlBool>`${p.col} < ${p.v}` : sql<SqlBool>`${p.col} > ${p.v}`;
    return p.desc ? sql<SqlBool>`${p.col} < ${p.v}` : sql<SqlBool>`(${p.col} > ${p.v} or ${p.col} is null)`;
  };
  const ors = parts.map((p, i) => sql.join([...parts.slice(0, i).map(eq), after(p)], sql` and `));
  const chain = sql<SqlBool>`((${sql.join(ors, sql`) or (`)}))`;
  const first = parts[0]!;
  // (a sort by the id alone is its own range already)
  if (parts.length === 1 || !first.neverNull || first.v === null) return chain;
  return sql<SqlBool>`${first.col} ${sql.raw(first.desc ? '<=' : '>=')} ${first.v} and ${chain}`;
}
