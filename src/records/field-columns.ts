import type { ColumnTypes } from '../db/columns.js';
import type { FieldType } from './field.types.js';

/** The column type of a record field, for the module tables and for custom fields' ALTER TABLE. */
export function fieldColumnType(
  t: ColumnTypes,
  type: FieldType,
): 'text' | 'integer' | ColumnTypes[keyof ColumnTypes] {
  switch (type) {
    case 'integer':
    case 'reference':
    case 'owner':
      return 'integer';
    case 'decimal':
    case 'currency':
      return t.decimal;
    case 'boolean':
      return t.bool;
    case 'datetime':
      return t.timestamp;
    default:
      return 'text';
  }
}
