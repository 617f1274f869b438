import type { CrmRecord } from '../records/record.model.js';
import type { ModuleView } from '../records/record-presenter.js';

/** Turns free text a record carries (an email on the record: headers, body, attachment names) into what one viewer may read. */
export type Redactor = (text: string) => string;

const NOTHING: Redactor = (t) => t;
/** what may stand between the digits of a phone number written out: spaces, dashes, dots, brackets */
const SEP = '[^0-9A-Za-z]{0,3}';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The longest text scanned per string: longer text is cut first (an email on a record keeps 64 KiB). */
const MAX_TEXT = 1_048_576;

/**
 * A redactor for the free text that comes with a stored record: every occurrence of the stored value of a
 * field masked for this viewer (case-insensitive; for a phone, its digits with any separators between them)
 * is replaced by the same placeholder the presenter shows for that field. Text that names no masked value is
 * returned as it was. `rec` is the stored (unpresented) record the viewer was allowed to read.
 */
export function maskedValueRedactor(view: ModuleView, rec: CrmRecord): Redactor {
  if (view.masked.size === 0) return NOTHING;
  const alternatives: Array<{ pattern: string; length: number; placeholder: string }> = [];
  for (const [name, mask] of view.masked) {
    const value = rec.fields[name];
    if (value === null || value === undefined || value === '') continue;
    const raw = (Array.isArray(value) ? value.join(', ') : String(value)).trim();
    if (raw === '') continue;
    const placeholder = mask.mask(value);
    alternatives.push({ pattern: escapeRe(raw), length: raw.length, placeholder });
    if (view.meta.fieldMap.get(name)?.type === 'phone') {
      const digits = raw.replace(/\D/g, '');
      // the same number written another way (`+1 (555) 123 4567`, `15551234567`), or without its leading
      // digits (`555 123 4567`): its last seven digits and as many of the ones before as are there
      if (digits.length >= 4) {
        const keep = Math.min(7, digits.length);
        let pattern = '';
        for (const d of digits.slice(0, digits.length - keep)) pattern = `(?:${pattern}${d}${SEP})?`;
        pattern += digits.slice(-keep).split('').join(SEP);
        alternatives.push({
          pattern: `(?<![0-9])\\+?${pattern}(?![0-9])`,
          length: digits.length,
          placeholder,
        });
      }
    }
  }
  if (alternatives.length === 0) return NOTHING;
  // longest first: a value that contains another is replaced whole
  alternatives.sort((a, b) => b.length - a.length);
  const re = new RegExp(alternatives.map((a) => `(${a.pattern})`).join('|'), 'giu');
  return (text) => {
    const t = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
    return t.replace(re, (...m: unknown[]) => {
      for (let i = 0; i < alternatives.length; i++)
        if (m[i + 1] !== undefined) return alternatives[i]!.placeholder;
      return '';
    });
  };
}

/** Every string inside a JSON value (object keys kept), redacted. */
export function redactStrings<T>(value: T, redact: Redactor): T {
  if (redact === NOTHING) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
