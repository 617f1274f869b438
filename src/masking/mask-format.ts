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
  // a count, then one native replace over the part to hide: this runs for every masked phone listed
  let digits = 0;
  for (let i = 0; i < v.length; i++) if (isDigit(v.charCodeAt(i))) digits++;
  if (digits < p.keepLast + 4 || v.length > 1000) return PADDING;
  const hidden = digits - p.keepLast;
  let end = 0;
  for (let seen = 0; seen < hidden; end++) if (isDigit(v.charCodeAt(end))) seen++;
  return v.slice(0, end).replace(DIGITS, '*') + v.slice(end);
}

const DIGITS = /[0-9]/g;

/**
 * Where the first `n` code points of `s` end (as `Array.from(s).slice(0, n).join('')` counts them: a
 * surrogate pair is one), or -1 when `s` has fewer. No array per value: this runs for every masked field of
 * every record listed.
 */
function afterCodePoints(s: string, n: number): number {
  let i = 0;
  for (let seen = 0; seen < n; seen++) {
    if (i >= s.length) return -1;
    i += isPairAt(s, i) ? 2 : 1;
  }
  return i;
}

/** Where the last `n` code points of `s` begin; `s` has at least `n`. */
function beforeLastCodePoints(s: string, n: number): number {
  let i = s.length;
  for (let seen = 0; seen < n; seen++) i -= i >= 2 && isPairAt(s, i - 2) ? 2 : 1;
  return i;
}

const isPairAt = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff) return false;
  const d = s.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff;
};

/** Email: the first `keepFirst` letters of the local part, `***`, and the domain (`j***@example.com`). */
function maskEmail(v: string, p: MaskPattern): string {
  const at = v.lastIndexOf('@');
  if (at <= 0 || at === v.length - 1) return PADDING;
  const local = v.slice(0, at);
  // the local part keeps letters only when at least three stay hidden
  const keep = afterCodePoints(local, p.keepFirst + 3) >= 0 ? afterCodePoints(local, p.keepFirst) : 0;
  return `${local.slice(0, keep)}***@${v.slice(at + 1)}`;
}

/** Text: the first `keepFirst` and last `keepLast` characters around fixed padding (`Lo******ce`). */
function maskText(v: string, p: MaskPattern): string {
  // short values keep nothing: at least 4 characters must stay hidden
  if (p.keepFirst + p.keepLast === 0 || afterCodePoints(v, p.keepFirst + p.keepLast + 4) < 0) return PADDING;
  return (
    v.slice(0, afterCodePoints(v, p.keepFirst)) +
    PADDING +
    (p.keepLast ? v.slice(beforeLastCodePoints(v, p.keepLast)) : '')
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
