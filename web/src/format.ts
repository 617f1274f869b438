import type { Timestamp } from './api/types';

/** The user's display preferences for times (a `UserView` fits). */
export interface TimePrefs {
  timeZone?: string;
  dateFormat?: string;
  /** `en_us`: the number format of amounts */
  language?: string;
}

/**
 * A timestamp in the user's time zone and date format (`yyyy-mm-dd`, `mm-dd-yyyy` or `dd-mm-yyyy`, as in
 * My Preferences) with a 24-hour time, or a word when there is none.
 */
export function formatTime(value: Timestamp, prefs: TimePrefs | string = {}, never = 'Never'): string {
  if (value === null || value === undefined || value === '') return never;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return never;
  const { timeZone, dateFormat = 'yyyy-mm-dd' } = typeof prefs === 'string' ? { timeZone: prefs } : prefs;
  try {
    const parts = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(date);
    const p = (type: string) => parts.find((x) => x.type === type)?.value ?? '';
    const [y, m, d] = [p('year'), p('month'), p('day')];
    const day =
      dateFormat === 'mm-dd-yyyy'
        ? `${m}-${d}-${y}`
        : dateFormat === 'dd-mm-yyyy'
          ? `${d}-${m}-${y}`
          : `${y}-${m}-${d}`;
    return `${day} ${p('hour')}:${p('minute')}`;
  } catch {
    return date.toISOString();
  }
}

export function fullName(u: { firstName?: string; lastName?: string; username: string }): string {
  const name = `${u.firstName ?? ''} ${u.lastName ?? ''}`.trim();
  return name || u.username;
}

/** `en_us` → `en-US`, for `<html lang>` and Intl. */
export function languageTag(language: string | undefined): string {
  if (!language) return 'en';
  const [lang, region] = language.split('_');
  return region ? `${lang}-${region.toUpperCase()}` : (lang ?? 'en');
}

/** A calendar date (`2026-01-31`) in the user's date format; the value as given when it is not one. */
export function formatDate(value: string, dateFormat = 'yyyy-mm-dd'): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return value;
  const [, y, mo, d] = m;
  if (dateFormat === 'mm-dd-yyyy') return `${mo}-${d}-${y}`;
  if (dateFormat === 'dd-mm-yyyy') return `${d}-${mo}-${y}`;
  return `${y}-${mo}-${d}`;
}

/** An amount with grouping and two decimals in the user's language (`12,500.00`, `12.500,00`). */
export function formatAmount(value: number | string, language?: string): string {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return String(value);
  return new Intl.NumberFormat(languageTag(language), {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  }).format(n);
}
