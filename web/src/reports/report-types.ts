export type Cell = string | number | boolean | string[] | null;

export interface ReportCondition {
  field: string;
  op: string;
  value?: string | number | boolean | null;
}

export interface ReportDefinition {
  type: 'detail' | 'summary' | 'matrix';
  primary: string;
  related: Array<{ module: string; name?: string; from?: string; via?: string }>;
  columns: string[];
  filter?: { and: ReportCondition[] } | { or: ReportCondition[] };
  groupBy: string[];
  aggregates: Array<{ fn: 'count' | 'sum' | 'avg' | 'min' | 'max'; field?: string }>;
  sort: Array<{ field: string; desc: boolean }>;
  chart?: { type: 'bar' | 'hbar' | 'line' | 'pie' } | null;
}

export interface SavedReport {
  id: number;
  ownerId: number;
  name: string;
  description: string;
  primaryModule: string;
  definition: ReportDefinition;
  visibility: 'private' | 'shared' | 'public';
  sharedUserIds: number[];
  sharedRoleIds: number[];
  updatedAt: string;
  editable: boolean;
}

export interface SourceOption {
  name: string;
  module: string;
  label: string;
  from: string | null;
  via: string | null;
  cardinality: 'primary' | 'one' | 'many';
  fields: Array<{ name: string; label: string; type: string; masked: boolean }>;
}

export interface ReportColumn {
  key: string;
  label: string;
  type: string;
}

export interface ReportResult {
  columns: ReportColumn[];
  rows: Cell[][];
  totalRows: number;
  totalRecords: number;
  rowsPer: string | null;
  offset: number;
  groupBy: ReportColumn[];
  aggregates: Array<{ key: string; label: string; fn: string }>;
  groups: Array<{ level: number; keys: Cell[]; records: number; values: Array<number | string | null> }>;
  totals: Array<number | string | null>;
}

export const NUMERIC_TYPES = new Set(['integer', 'decimal', 'currency']);
