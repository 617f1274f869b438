export type VtqlOperator = '=' | '<' | '>' | '<=' | '>=' | '!=' | 'IN' | 'LIKE';

export interface VtqlCondition {
  /** how this condition joins the previous one; null for the first */
  connector: 'AND' | 'OR' | null;
  field: string;
  op: VtqlOperator;
  /** literal values, unquoted; more than one only for IN (…) */
  values: string[];
}

export type VtqlColumns = { kind: 'all' } | { kind: 'count' } | { kind: 'list'; fields: string[] };

export interface VtqlQuery {
  columns: VtqlColumns;
  module: string;
  where: VtqlCondition[];
  orderBy: string[];
  direction: 'ASC' | 'DESC' | null;
  limit: { offset: number; count: number } | null;
}

/** Vtiger returns at most this many rows per call, whatever LIMIT says. */
export const VTQL_MAX_ROWS = 100;
