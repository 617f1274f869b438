import type { FieldType } from '../records/field.types.js';

/** The field types a rule may mask: Vtiger's Phone, Email and Text (single-line `string` and multi-line `text`). */
export const MASKABLE_TYPES: readonly FieldType[] = ['phone', 'email', 'string', 'text'];
export type MaskKind = 'phone' | 'email' | 'text';

/** How many characters a rule may leave readable at each end (phone: last digits; email: first letters). */
export const MAX_KEEP = 4;

/** Fixed-length padding: the same for every value, so the mask does not tell the value's length. */
export const PADDING = '******';

export interface MaskPattern {
  keepFirst: number;
  keepLast: number;
}

export function maskKind(type: FieldType): MaskKind | null {
  if (type === 'phone') return 'phone';
  if (type === 'email') return 'email';
  if (type === 'string' || type === 'text') return 'text';
  return null;
}

/** The default pattern per kind: phone keeps its last 4 digits, email its first letter, text nothing. */
export function defaultPattern(kind: MaskKind): MaskPattern {
  if (kind === 'phone') return { keepFirst: 0, keepLast: 4 };
  if (kind === 'email') return { keepFirst: 1, keepLast: 0 };
  return { keepFirst: 0, keepLast: 0 };
}

/**
 * Phone: every digit but the last `keepLast` becomes `*`, punctuation stays (`+1 555-123-4567` →
 * `+* ***-***-4567`). A number with fewer than `keepLast + 4` digits shows no digit at all.
 */
const isDigit = (c: number) => c >= 48 && c <= 57;

function maskPhone(v: string, p: MaskPattern): string {
  // one pass per step, no regular expression: this runs for every masked phone of every record listed
  let digits = 0;
  for (let i = 0; i < v.length; i++) if (isDigit(v.charCodeAt(i))) digits++;
  if (digits < p.keepLast + 4 || v.length > 1000) return PADDING;
  const keepFrom = digits - p.keepLast;
  const codes = new Array<number>(v.length);
  let seen = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    codes[i] = isDigit(c) && ++seen <= keepFrom ? 42 /* '*' */ : c;
  }
  return String.fromCharCode(...codes);
}

/** Email: the first `keepFirst` letters of the local part, `***`, and the domain (`j***@example.com`). */
function maskEmail(v: string, p: MaskPattern): string {
  const at = v.lastIndexOf('@');
  if (at <= 0 || at === v.length - 1) return PADDING;
  const local = Array.from(v.slice(0, at));
  const keep = local.length >= p.keepFirst + 3 ? p.keepFirst : 0;
  return `${local.slice(0, keep).join('')}***@${v.slice(at + 1)}`;
}

/** Text: the first `keepFirst` and last `keepLast` characters around fixed padding (`Lo******ce`). */
function maskText(v: string, p: MaskPattern): string {
  const chars = Array.from(v);
  // short values keep nothing: at least 4 characters must stay hidden
  if (chars.length < p.keepFirst + p.keepLast + 4) return PADDING;
  return (
    chars.slice(0, p.keepFirst).join('') + PADDING + (p.keepLast ? chars.slice(-p.keepLast).join('') : '')
  );
}

/** The masked form of one non-empty value. Never contains the value itself (such a value shows padding only). */
export function maskValue(kind: MaskKind, pattern: MaskPattern, value: unknown): string {
  const v = Array.isArray(value) ? value.join(', ') : String(value);
  const out =
    kind === 'phone'
      ? maskPhone(v, pattern)
      : kind === 'email'
        ? maskEmail(v, pattern)
        : maskText(v, pattern);
  return out.includes(v) ? PADDING : out;
}

/**
 * Whether `v` has the shape of a mask of this kind under any pattern: the placeholder a masked viewer read
 * and sent back, possibly copied from another record or masked under an earlier pattern. A write never
 * stores one as a real value (see `withMaskedPlaceholdersKept`). Real phones, emails and short texts do not
 * look like this: four or more `*` in a phone with at most MAX_KEEP digits, `***@` after at most MAX_KEEP
 * characters, the padding with at most MAX_KEEP characters on either side.
 */
export function looksMasked(kind: MaskKind, v: string): boolean {
  if (v === PADDING) return true;
  if (kind === 'phone') {
    let stars = 0;
    let digits = 0;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c === 42) stars++;
      else if (isDigit(c)) digits++;
    }
    return stars >= 4 && digits <= MAX_KEEP;
  }
  if (kind === 'email') {
    const at = v.lastIndexOf('@');
    if (at < 3 || at === v.length - 1 || !v.startsWith('***', at - 3)) return false;
    return Array.from(v.slice(0, at - 3)).length <= MAX_KEEP;
  }
  return v.includes(PADDING) && Array.from(v).length <= PADDING.length + 2 * MAX_KEEP;
}
