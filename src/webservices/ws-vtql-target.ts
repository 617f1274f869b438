import { sql } from 'kysely';
import type { FieldDef } from '../records/field.types.js';
import type { ModuleMeta } from '../records/module-meta.js';
import type { VtqlFieldTarget, VtqlTarget } from './vtql/vtql-compiler.js';

const ENTITY_COLUMNS: Record<string, string> = {
  assigned_user_id: 'e.owner_id',
  createdtime: 'e.created_at',
  modifiedtime: 'e.modified_at',
  modifiedby: 'e.modified_by',
};
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

/** The VTQL view of a module: its fields as describe lists them, plus `id`, with their columns. */
export function moduleVtqlTarget(meta: ModuleMeta): VtqlTarget {
  // built on demand: a query names a handful of the module's fields
  const field = (name: string): VtqlFieldTarget | undefined => {
    if (name === 'id') return { column: sql.ref('e.id'), idLike: true, text: false, convert: digits };
    const f = meta.fieldMap.get(name);
    if (!f) return undefined;
    return {
      column: sql.ref(ENTITY_COLUMNS[f.name] ?? `m.${f.name}`),
      idLike: f.type === 'reference' || f.type === 'owner',
      text: TEXT_TYPES.has(f.type),
      convert: converter(f),
    };
  };
  return { field, fieldNames: () => [...meta.fields.map((f) => f.name), 'id'] };
}
