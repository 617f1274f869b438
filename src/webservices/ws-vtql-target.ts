import type { FieldDef } from '../records/field.types.js';
import { queryColumn } from '../records/record-filter.js';
import type { ModuleView } from '../records/record-presenter.js';
import type { VtqlFieldTarget, VtqlTarget, VtqlUse } from './vtql/vtql-compiler.js';

const TRUE_WORDS = new Set(['1', 'true', 'on', 'yes']);
const FALSE_WORDS = new Set(['0', 'false', 'off', 'no']);
const VT_DATETIME = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?$/;

const number = (v: string) => (/^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : undefined);
const digits = (v: string) => (/^\d{1,15}$/.test(v) ? Number(v) : undefined);

/** A VTQL literal as the stored value of the field; undefined when no stored value can equal it. */
function converter(field: FieldDef): (v: string) => unknown {
  switch (field.type) {
    case 'integer':
    case 'decimal':
    case 'currency':
      return number;
    case 'reference':
    case 'owner':
      return digits;
    case 'boolean':
      // '1'/'0' as text: PostgreSQL reads them into a boolean column, SQLite compares them as integers
      return (v) =>
        TRUE_WORDS.has(v.toLowerCase()) ? '1' : FALSE_WORDS.has(v.toLowerCase()) ? '0' : undefined;
    case 'datetime':
      return (v) => {
        const m = VT_DATETIME.exec(v.trim());
        const ms = m ? Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}Z`) : Number.NaN;
        return Number.isFinite(ms) ? ms : undefined;
      };
    default:
      return (v) => v;
  }
}

const TEXT_TYPES = new Set(['string', 'text', 'email', 'phone', 'url', 'picklist', 'multipicklist', 'date']);

/**
 * The VTQL view of a module for one viewer: its fields as describe lists them, plus `id`, with their
 * columns. Conditions and ORDER BY ask the record service for each column, so a field the viewer may not
 * use (a masked one) is refused there, the same as in REST filters.
 */
export function moduleVtqlTarget(view: ModuleView): VtqlTarget {
  const { meta } = view;
  // built on demand: a query names a handful of the module's fields
  const field = (name: string, use: VtqlUse): VtqlFieldTarget | undefined => {
    if (name !== 'id' && !meta.fieldMap.has(name)) return undefined;
    const column = use === 'select' ? undefined : queryColumn(view, name, use);
    if (name === 'id') return { column, idLike: true, text: false, convert: digits };
    const f = meta.fieldMap.get(name)!;
    return {
      column,
      idLike: f.type === 'reference' || f.type === 'owner',
      text: TEXT_TYPES.has(f.type),
      convert: converter(f),
    };
  };
  return { field, fieldNames: () => [...meta.fields.map((f) => f.name), 'id'] };
}
