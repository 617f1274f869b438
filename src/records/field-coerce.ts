import { INT_COLUMN_MAX } from '../db/columns.js';
import type { FieldDef } from './field.types.js';

/** A field value in the domain: strings, numbers (datetime = epoch ms, reference/owner = id), booleans, lists. */
export type FieldValue = string | number | boolean | string[] | null;

export type Coerced = { ok: true; value: FieldValue } | { ok: false; problem: string };

const MAX_STRING = 255;
const MAX_TEXT = 65_535;
const MULTI_SEPARATOR = ' |##| ';
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^[0-9+()\-./\s#*xXext]{1,50}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const VTIGER_DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/;
const BOOL_WORDS: Record<string, boolean> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

const ok = (value: FieldValue): Coerced => ({ ok: true, value });
const bad = (problem: string): Coerced => ({ ok: false, problem });

export function hasNul(raw: unknown): boolean {
  if (typeof raw === 'string') return raw.includes('\0');
  return Array.isArray(raw) && raw.some((x) => typeof x === 'string' && x.includes('\0'));
}

function asText(raw: unknown): string | null {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  return null;
}

export function isValidDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return d.getUTCFullYear() === +m[1]! && d.getUTCMonth() === +m[2]! - 1 && d.getUTCDate() === +m[3]!;
}

function coerceNumber(raw: unknown, integer: boolean): Coerced {
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : NaN;
  if (!Number.isFinite(n)) return bad(integer ? 'must be a whole number' : 'must be a number');
  if (integer && (!Number.isInteger(n) || Math.abs(n) > 2_147_483_647))
    return bad('must be a whole number between -2147483647 and 2147483647');
  if (Math.abs(n) >= 1e15) return bad('is too large');
  return ok(n);
}

function coerceId(raw: unknown): Coerced {
  const n =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && /^\d{1,15}$/.test(raw.trim())
        ? Number(raw)
        : NaN;
  if (!Number.isSafeInteger(n) || n <= 0 || n > INT_COLUMN_MAX)
    return bad('must be a record id (a positive whole number)');
  return ok(n);
}

/**
 * Turns an input value (JSON from REST, strings from web services) into the field's domain value, or says
 * what is wrong in words that fit after the field name. Empty strings and null clear the field.
 */
export function coerceFieldValue(field: FieldDef, raw: unknown): Coerced {
  if (raw === null || raw === undefined || raw === '') return ok(null);
  // PostgreSQL text cannot hold NUL; refuse it on both databases alike
  if (hasNul(raw)) return bad('must not contain NUL characters');
  switch (field.type) {
    case 'string':
    case 'text':
    case 'url': {
      const s = asText(raw);
      if (s === null) return bad('must be text');
      const max = field.type === 'text' ? MAX_TEXT : MAX_STRING;
      return s.length > max ? bad(`must be at most ${max} characters`) : ok(s);
    }
    case 'email': {
      const s = asText(raw);
      return s !== null && s.length <= MAX_STRING && EMAIL.test(s.trim())
        ? ok(s.trim())
        : bad('must be an email address');
    }
    case 'phone': {
      const s = asText(raw);
      return s !== null && PHONE.test(s)
        ? ok(s)
        : bad('must be a phone number (digits, spaces and + ( ) - . at most 50 characters)');
    }
    case 'integer':
      return coerceNumber(raw, true);
    case 'decimal':
    case 'currency':
      return coerceNumber(raw, false);
    case 'date':
      return typeof raw === 'string' && isValidDate(raw) ? ok(raw) : bad('must be a date written YYYY-MM-DD');
    case 'datetime':
      return coerceDateTime(raw);
    case 'boolean': {
      if (typeof raw === 'boolean') return ok(raw);
      const b = BOOL_WORDS[String(raw).trim().toLowerCase()];
      return b === undefined ? bad('must be true or false') : ok(b);
    }
    case 'picklist': {
      const s = asText(raw);
      const hit =
        s === null ? undefined : field.picklistValues?.find((v) => v.toLowerCase() === s.toLowerCase());
      return hit === undefined ? bad(`must be one of: ${(field.picklistValues ?? []).join(', ')}`) : ok(hit);
    }
    case 'multipicklist':
      return coerceMulti(field, raw);
    case 'reference':
    case 'owner':
      return coerceId(raw);
  }
}

function coerceDateTime(raw: unknown): Coerced {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? ok(raw) : bad('must be a date and time');
  if (typeof raw !== 'string') return bad('must be a date and time');
  // Vtiger's "Y-m-d H:i:s" and a bare date (midnight) are UTC; ISO 8601 strings carry their own offset
  const s = VTIGER_DATETIME.test(raw)
    ? `${raw.replace(' ', 'T')}Z`
    : isValidDate(raw)
      ? `${raw}T00:00:00Z`
      : raw;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(s) ? Date.parse(s) : NaN;
  return Number.isFinite(ms) ? ok(ms) : bad('must be a date and time such as 2026-11-23T09:00:00Z');
}

function coerceMulti(field: FieldDef, raw: unknown): Coerced {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(MULTI_SEPARATOR.trim()) : null;
  if (!items) return bad('must be a list of values');
  const out: string[] = [];
  for (const item of items) {
    const s = typeof item === 'string' ? item.trim() : null;
    const hit =
      s === null ? undefined : field.picklistValues?.find((v) => v.toLowerCase() === s.toLowerCase());
    if (hit === undefined) return bad(`may only contain: ${(field.picklistValues ?? []).join(', ')}`);
    if (!out.includes(hit)) out.push(hit);
  }
  return ok(out.length ? out : null);
}

/** Domain value → column value (booleans as 0/1, lists joined the way Vtiger stores them). */
export function toColumn(field: FieldDef, v: FieldValue): string | number | null {
  if (v === null) return null;
  if (field.type === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v)) return v.join(MULTI_SEPARATOR);
  return v as string | number;
}

const fromNumber = (v: unknown): FieldValue => (v === null || v === undefined ? null : Number(v));
const fromText = (v: unknown): FieldValue => (v === null || v === undefined ? null : String(v));
const fromFlag = (v: unknown): FieldValue => (v === null || v === undefined ? null : Boolean(v));
const fromList = (v: unknown): FieldValue =>
  v === null || v === undefined ? null : String(v).split(MULTI_SEPARATOR);

/** Column value → domain value, for a field of this type. */
export function columnReader(type: FieldDef['type']): (v: unknown) => FieldValue {
  switch (type) {
    case 'boolean':
      return fromFlag;
    case 'multipicklist':
      return fromList;
    case 'integer':
    case 'decimal':
    case 'currency':
    case 'reference':
    case 'owner':
    case 'datetime':
      return fromNumber;
    default:
      return fromText;
  }
}

/** Column value → domain value. */
export function fromColumn(field: FieldDef, v: unknown): FieldValue {
  return columnReader(field.type)(v);
}
