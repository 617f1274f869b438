import type { ColumnDefinitionBuilder, CreateTableBuilder } from 'kysely';
import type { DialectName } from './database.js';

/**
 * The only place where column types differ between SQLite and PostgreSQL.
 * Timestamps are UTC epoch milliseconds (bigint); booleans are written as 0/1, which PostgreSQL's
 * boolean input also accepts, and read back through `Boolean()` in each mapper.
 */
export interface ColumnTypes {
  bool: 'integer' | 'boolean';
  timestamp: 'integer' | 'bigint';
  /** decimal and currency record fields */
  decimal: 'real' | 'double precision';
}

export function columnTypes(dialect: DialectName): ColumnTypes {
  return dialect === 'sqlite'
    ? { bool: 'integer', timestamp: 'integer', decimal: 'real' }
    : { bool: 'boolean', timestamp: 'bigint', decimal: 'double precision' };
}

/** An auto-incrementing integer primary key named `id`. */
export function withId<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement())
    : table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) =>
        c.primaryKey().generatedByDefaultAsIdentity(),
      );
}

/** The largest value an `integer` column holds on PostgreSQL (ids, counts); SQLite's are wider. */
export const INT_COLUMN_MAX = 2_147_483_647;
