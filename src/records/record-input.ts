import { coerceFieldValue, type FieldValue } from './field-coerce.js';
import type { ModuleMeta } from './module-meta.js';
import { recordError } from './record.errors.js';

/** Keys a client may send back unchanged from a read; they are not fields and are ignored. */
const IGNORED_KEYS = new Set(['id', 'version', 'label', 'lineItems', 'LineItems']);

export type InputMode = 'create' | 'partial' | 'full';

/**
 * Checks and converts client input against the module's fields. Unknown fields are refused; fields the
 * server sets (record number, times, totals) are ignored so a record read can be sent back as it is.
 */
export function parseRecordInput(
  meta: ModuleMeta,
  input: Record<string, unknown>,
  mode: InputMode,
): Map<string, FieldValue> {
  const out = new Map<string, FieldValue>();
  for (const [name, raw] of Object.entries(input)) {
    if (IGNORED_KEYS.has(name)) continue;
    const field = meta.fieldMap.get(name);
    if (!field)
      throw recordError('FIELD_UNKNOWN', `${meta.singular} has no field "${name}".`, {
        details: { field: name },
      });
    if (!field.editable) continue;
    const c = coerceFieldValue(field, raw);
    if (!c.ok)
      throw recordError('FIELD_INVALID', `${name} (${field.label}) ${c.problem}.`, {
        details: { field: name },
      });
    out.set(name, c.value);
  }
  if (mode === 'create') {
    for (const field of meta.fields) {
      // defaults apply to server-set fields too (a new lead is not converted): the stored row has them
      if (!out.has(field.name) && field.default !== undefined) {
        const c = coerceFieldValue(field, field.default);
        if (c.ok) out.set(field.name, c.value);
      }
    }
  }
  if (mode === 'full') {
    const missing = meta.fields.filter(
      (x) => x.mandatory && x.editable && x.name !== 'assigned_user_id' && !(x.name in input),
    );
    if (missing.length)
      throw recordError(
        'MANDATORY_FIELD_MISSING',
        `These mandatory fields are missing: ${missing.map((x) => x.name).join(', ')}.`,
        { details: { field: missing[0]!.name, fields: missing.map((x) => x.name) } },
      );
  }
  return out;
}

/** Every mandatory field must have a value after the change (owner is defaulted by the caller). */
export function assertMandatory(meta: ModuleMeta, values: ReadonlyMap<string, FieldValue>): void {
  const missing = meta.fields.filter((x) => x.mandatory && x.editable && isEmpty(values.get(x.name)));
  if (missing.length) {
    const names = missing.map((x) => `${x.name} (${x.label})`).join(', ');
    throw recordError(
      'MANDATORY_FIELD_MISSING',
      missing.length === 1 ? `${names} is mandatory.` : `These fields are mandatory: ${names}.`,
      { details: { field: missing[0]!.name, fields: missing.map((x) => x.name) } },
    );
  }
}

function isEmpty(v: FieldValue | undefined): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

export function recordLabel(meta: ModuleMeta, values: ReadonlyMap<string, FieldValue>): string {
  return meta.labelFields
    .map((n) => values.get(n))
    .filter((v) => v !== null && v !== undefined && v !== '')
    .join(' ')
    .slice(0, 255);
}
