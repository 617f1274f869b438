import type { Timestamp } from './api/types';

/** A timestamp in the user's time zone, or a word when there is none. */
export function formatTime(value: Timestamp, timeZone?: string, never = 'Never'): string {
  if (value === null || value === undefined || value === '') return never;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return never;
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(
      date,
    );
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
