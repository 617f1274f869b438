import type { FieldValue } from '../records/field-coerce.js';

/** CSV cells: text starting with = + - @ (or a tab/CR) gets a leading ' so spreadsheets do not run it. */
export function csvCell(v: FieldValue): string | number {
  if (v === null) return '';
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? '1' : '0';
  const s = Array.isArray(v) ? v.join(', ') : v;
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}
