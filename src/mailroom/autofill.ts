import type { FieldDef } from '../records/field.types.js';
import { coerceFieldValue, type FieldValue, isValidDate } from '../records/field-coerce.js';
import type { ParsedMail } from './mail-parse.js';

/** Vtiger's delimiter choices; an admin may also type their own. */
export const DELIMITERS = [':', ';', '-', '=', '>', ':-', ':=', ';-', ';=', '=>'] as const;

/** Labels offered for every message, whatever its body says. */
export const VIRTUAL_LABELS = ['Subject', 'From Email', 'From Name', 'Email Content'] as const;

export interface AutofillMapping {
  label: string;
  field: string;
}

export interface AutofillConfig {
  delimiter: string;
  mappings: AutofillMapping[];
}

export interface Dropped {
  label: string;
  field: string;
  value: string;
  reason: string;
}

export interface AutofillResult {
  values: Record<string, FieldValue>;
  dropped: Dropped[];
}

/** Field types an autofill mapping may target (Vtiger leaves out references, booleans and owners too). */
export function isAutofillTarget(f: FieldDef): boolean {
  return f.editable && !['reference', 'owner', 'boolean'].includes(f.type);
}

const stripLabel = (label: string, delimiter: string) => {
  let l = label.trim();
  // a table cell "Phone:" carries the delimiter itself
  while (delimiter !== '' && l.endsWith(delimiter)) l = l.slice(0, -delimiter.length).trim();
  return l.replace(/\s+/g, ' ');
};

/**
 * `Label<delimiter>value` lines of a body, and two-cell table rows. The label is the text before the first
 * delimiter (trimmed, compared case-insensitively); the value is the rest, so `Call time: 10:30` → `10:30`.
 * A later line with the same label wins. A delimiter at the very start of a line is not a label.
 */
export function labelledValues(
  body: string,
  tablePairs: ReadonlyArray<[string, string]>,
  delimiter: string,
): Map<string, { label: string; value: string }> {
  const out = new Map<string, { label: string; value: string }>();
  if (delimiter === '') return out;
  for (const [rawLabel, value] of tablePairs) {
    const label = stripLabel(rawLabel, delimiter);
    if (label !== '' && label.length <= 100) out.set(label.toLowerCase(), { label, value: value.trim() });
  }
  for (const line of body.split('\n')) {
    const at = line.indexOf(delimiter);
    if (at <= 0) continue;
    const label = stripLabel(line.slice(0, at), delimiter);
    if (label === '' || label.length > 100) continue;
    out.set(label.toLowerCase(), { label, value: line.slice(at + delimiter.length).trim() });
  }
  return out;
}

/** What an admin's sample email offers to map: the virtual labels, then each label found, in order. */
export function sampleLabels(sample: string, delimiter: string): Array<{ label: string; value: string }> {
  const found = [...labelledValues(sample, [], delimiter).values()];
  return found;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** A date written the ways web forms write them, as YYYY-MM-DD; null when it is not a date. */
export function toIsoDate(raw: string): string | null {
  const s = raw.trim();
  const month = (name: string) => MONTHS.indexOf(name.slice(0, 3).toLowerCase()) + 1;
  const patterns: Array<[RegExp, (m: RegExpExecArray) => [string, number, number]]> = [
    [/^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s].*)?$/, (m) => [m[1]!, +m[2]!, +m[3]!]],
    [/^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, (m) => [m[3]!, +m[2]!, +m[1]!]],
    [/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, (m) => [m[3]!, +m[1]!, +m[2]!]],
    [/^(\d{1,2})\s+([a-z]{3,9})\.?,?\s+(\d{4})$/i, (m) => [m[3]!, month(m[2]!), +m[1]!]],
    [/^([a-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})$/i, (m) => [m[3]!, month(m[1]!), +m[2]!]],
  ];
  for (const [re, parts] of patterns) {
    const m = re.exec(s);
    if (!m) continue;
    const [y, mo, d] = parts(m);
    const iso = `${y}-${pad(mo)}-${pad(d)}`;
    return mo > 0 && isValidDate(iso) ? iso : null;
  }
  return null;
}

/** A number as forms write it: `$1,234.50`, `1 234,5 €`, `15 %`; null when it is not one number. */
export function toNumber(raw: string): number | null {
  let s = raw.trim().replace(/^[^\d+-]*|[^\d]*$/g, '');
  s = s.replace(/[\s\u00a0']/g, '');
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  else if (/^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$/.test(s)) s = s.replace(/\./g, '').replace(',', '.');
  else if (/^[+-]?\d+,\d+$/.test(s)) s = s.replace(',', '.');
  if (!/^[+-]?\d+(\.\d+)?$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** Converts one extracted value to the field's type, or says why it does not fit. */
export function convertForField(
  field: FieldDef,
  raw: string,
): { ok: true; value: FieldValue } | { ok: false; reason: string } {
  let candidate: unknown = raw.trim();
  switch (field.type) {
    case 'date': {
      const d = toIsoDate(raw);
      if (d === null) return { ok: false, reason: 'not a date' };
      candidate = d;
      break;
    }
    case 'integer':
    case 'decimal':
    case 'currency': {
      const n = toNumber(raw);
      if (n === null) return { ok: false, reason: 'not a number' };
      candidate = field.type === 'integer' ? Math.round(n) : n;
      break;
    }
    case 'email': {
      const m = /[^\s<>"',;:]+@[^\s<>"',;:]+\.[^\s<>"',;:]+/.exec(raw);
      if (!m) return { ok: false, reason: 'not an email address' };
      candidate = m[0];
      break;
    }
    case 'multipicklist':
      candidate = raw
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      break;
    case 'string':
      if (raw.length > 255) return { ok: false, reason: 'longer than 255 characters' };
      break;
    default:
      break;
  }
  if (field.type === 'multipicklist' && Array.isArray(candidate)) {
    const allowed = field.picklistValues ?? [];
    const hits = candidate.map((v) => allowed.find((a) => a.toLowerCase() === String(v).toLowerCase()));
    if (hits.some((h) => h === undefined)) return { ok: false, reason: 'not one of the allowed values' };
    candidate = hits;
  }
  const c = coerceFieldValue(field, candidate);
  if (!c.ok) return { ok: false, reason: c.problem };
  return { ok: true, value: c.value };
}

/** Applies a rule's mapping to a message: values by field, and what was dropped with the reason. */
export function applyAutofill(
  mail: ParsedMail,
  config: AutofillConfig,
  fields: ReadonlyMap<string, FieldDef>,
): AutofillResult {
  const found = labelledValues(mail.body, mail.tablePairs, config.delimiter);
  const values: Record<string, FieldValue> = {};
  const dropped: Dropped[] = [];
  for (const { label, field: fieldName } of config.mappings) {
    const field = fields.get(fieldName);
    let raw: string | undefined;
    switch (label.toLowerCase()) {
      case 'subject':
        raw = mail.subject;
        break;
      case 'from email':
        raw = mail.from?.address;
        break;
      case 'from name':
        raw = mail.from?.name;
        break;
      case 'email content':
        raw = mail.body;
        break;
      default:
        raw = found.get(label.trim().toLowerCase())?.value;
    }
    if (raw === undefined || raw.trim() === '') continue;
    if (!field || !isAutofillTarget(field)) {
      dropped.push({
        label,
        field: fieldName,
        value: raw.slice(0, 200),
        reason: 'not a field autofill can set',
      });
      continue;
    }
    const converted = convertForField(field, raw);
    if (converted.ok) values[field.name] = converted.value;
    else dropped.push({ label, field: field.name, value: raw.slice(0, 200), reason: converted.reason });
  }
  return { values, dropped };
}
