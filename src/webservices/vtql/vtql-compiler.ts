import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { WsError } from '../ws-errors.js';
import { VTQL_MAX_ROWS, type VtqlCondition, type VtqlQuery } from './vtql-ast.js';

/** What the query does with a field: name it in the column list, compare it in WHERE, order by it. */
export type VtqlUse = 'select' | 'filter' | 'sort';

/** How one field of the queried module is stored, supplied by the module's adapter. */
export interface VtqlFieldTarget {
  /** the column, already qualified, e.g. sql.ref('r.lastname'); absent when only selected */
  column?: RawBuilder<unknown>;
  /** id, reference and owner fields take `NxM` literals and compare on M */
  idLike: boolean;
  /** a literal turned into the stored value; undefined when no stored value can equal it */
  convert(literal: string): unknown;
  /** text fields: LIKE is case-insensitive, as on Vtiger's MySQL collation */
  text: boolean;
}

export interface VtqlTarget {
  field(name: string, use: VtqlUse): VtqlFieldTarget | undefined;
  /** every readable field, in describe order (what `SELECT *` returns) */
  fieldNames(): string[];
}

export interface CompiledVtql {
  /** 'count' for SELECT count(*); else the fields to return, `id` always included */
  select: 'count' | string[];
  where: RawBuilder<SqlBool> | null;
  orderBy: Array<{ expr: RawBuilder<unknown>; desc: boolean }> | null;
  limit: number;
  offset: number;
}

const NEVER = sql<SqlBool>`1 = 0`;

/** Compiles a parsed VTQL query to parameterised SQL fragments: no literal is ever spliced into SQL. */
export function compileVtql(q: VtqlQuery, target: VtqlTarget): CompiledVtql {
  let select: CompiledVtql['select'];
  if (q.columns.kind === 'count') select = 'count';
  else if (q.columns.kind === 'all') select = target.fieldNames();
  else {
    for (const f of q.columns.fields) {
      // Vtiger's message really contains the quotes and dots
      if (!target.field(f, 'select'))
        throw new WsError('ACCESS_DENIED', `Permission to access '.${f}.' attribute denied.`);
    }
    select = [...new Set([...q.columns.fields, 'id'])];
  }

  let where: RawBuilder<SqlBool> | null = null;
  if (q.where.length > 0) {
    const parts: RawBuilder<unknown>[] = [];
    for (const c of q.where) {
      if (c.connector) parts.push(sql.raw(c.connector === 'AND' ? ' AND ' : ' OR '));
      parts.push(condition(c, target));
    }
    where = sql<SqlBool>`(${sql.join(parts, sql``)})`;
  }

  let orderBy: CompiledVtql['orderBy'] = null;
  if (q.orderBy.length > 0) {
    // one direction for the whole list, as Vtiger's grammar has it
    orderBy = q.orderBy.map((f) => ({
      expr: columnOf(fieldOrDeny(target, f, 'sort')),
      desc: q.direction === 'DESC',
    }));
  }

  const limit = Math.min(q.limit?.count ?? VTQL_MAX_ROWS, VTQL_MAX_ROWS);
  return { select, where, orderBy, limit, offset: q.limit?.offset ?? 0 };
}

function fieldOrDeny(target: VtqlTarget, name: string, use: VtqlUse): VtqlFieldTarget {
  const f = target.field(name, use);
  if (!f) throw new WsError('ACCESS_DENIED', `Permission to access ${name} attribute denied.`);
  return f;
}

function columnOf(f: VtqlFieldTarget): RawBuilder<unknown> {
  if (!f.column) throw new Error('a VTQL target gave no column for a field used in WHERE or ORDER BY');
  return f.column;
}

function condition(c: VtqlCondition, target: VtqlTarget): RawBuilder<SqlBool> {
  const f = fieldOrDeny(target, c.field, 'filter');
  const column = columnOf(f);
  const values: unknown[] = [];
  for (const literal of c.values) {
    let raw = literal;
    if (f.idLike) {
      if (!literal.includes('x')) throw new WsError('INVALID_ID_ATTRIBUTE', 'Id specified is incorrect');
      raw = literal.split('x')[1] ?? '';
    }
    const v = f.convert(raw);
    if (v !== undefined) values.push(v);
  }
  if (c.op === 'IN') {
    if (values.length === 0) return NEVER;
    return sql<SqlBool>`${column} IN (${sql.join(values.map((v) => sql`${v}`))})`;
  }
  const value = values[0];
  if (value === undefined) return c.op === '!=' ? sql<SqlBool>`${column} IS NOT NULL` : NEVER;
  if (c.op === 'LIKE') {
    return f.text
      ? sql<SqlBool>`lower(${column}) LIKE lower(${value}) ESCAPE '\\'`
      : sql<SqlBool>`${column} = ${value}`;
  }
  return sql<SqlBool>`${column} ${sql.raw(c.op)} ${value}`;
}
