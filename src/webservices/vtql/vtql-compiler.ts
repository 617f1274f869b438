import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { WsError } from '../ws-errors.js';
import { VTQL_MAX_ROWS, type VtqlCondition, type VtqlQuery } from './vtql-ast.js';

/** How one field of the queried module is stored, supplied by the module's adapter. */
export interface VtqlFieldTarget {
  /** the column, already qualified, e.g. sql.ref('r.lastname') */
  column: RawBuilder<unknown>;
  /** id, reference and owner fields take `NxM` literals and compare on M */
  idLike: boolean;
  /** a literal turned into the stored value; undefined when no stored value can equal it */
  convert(literal: string): unknown;
  /** text fields: LIKE is case-insensitive, as on Vtiger's MySQL collation */
  text: boolean;
}

export interface VtqlTarget {
  field(name: string): VtqlFieldTarget | undefined;
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
      if (!target.field(f))
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
    orderBy = q.orderBy.map((f) => ({ expr: fieldOrDeny(target, f).column, desc: q.direction === 'DESC' }));
  }

  const limit = Math.min(q.limit?.count ?? VTQL_MAX_ROWS, VTQL_MAX_ROWS);
  return { select, where, orderBy, limit, offset: q.limit?.offset ?? 0 };
}

function fieldOrDeny(target: VtqlTarget, name: string): VtqlFieldTarget {
  const f = target.field(name);
  if (!f) throw new WsError('ACCESS_DENIED', `Permission to access ${name} attribute denied.`);
  return f;
}

function condition(c: VtqlCondition, target: VtqlTarget): RawBuilder<SqlBool> {
  const f = fieldOrDeny(target, c.field);
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
    return sql<SqlBool>`${f.column} IN (${sql.join(values.map((v) => sql`${v}`))})`;
  }
  const value = values[0];
  if (value === undefined) return c.op === '!=' ? sql<SqlBool>`${f.column} IS NOT NULL` : NEVER;
  if (c.op === 'LIKE') {
    return f.text
      ? sql<SqlBool>`lower(${f.column}) LIKE lower(${value}) ESCAPE '\\'`
      : sql<SqlBool>`${f.column} = ${value}`;
  }
  return sql<SqlBool>`${f.column} ${sql.raw(c.op)} ${value}`;
}
