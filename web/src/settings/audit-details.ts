import type { AuditEntry, AuditPerson } from '../api/types';

/** "Ann Admin" or "admin"; "system" for entries without a person. */
export function personName(p: AuditPerson | null | undefined): string {
  if (!p || (p.userId === null && p.username === null)) return 'system';
  return p.name || p.username || `user ${p.userId}`;
}

/** Who did it, in words: "Ann Admin as Bob Sales" while an administrator was logged in as someone. */
export function whoDidIt(e: AuditEntry): string {
  return e.actingAs ? `${personName(e.actor)} as ${personName(e.actingAs)}` : personName(e.actor);
}

export function targetLabel(e: AuditEntry): string {
  if (!e.target) return '—';
  const type = label(e.target.type);
  if (e.target.type === 'user') return e.target.label ?? `User #${e.target.id} (removed)`;
  return e.target.label ? `${type}: ${e.target.label}` : `${type} ${e.target.id}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** camelCase or snake_case keys in words: recordsTransferred → "Records transferred". */
function label(key: string): string {
  const words = key
    .replace(/_/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function text(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.length ? v.map(text).join(', ') : '—';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('from' in o && 'to' in o && Object.keys(o).length === 2) return `${text(o.from)} → ${text(o.to)}`;
    if (typeof o.username === 'string') return o.username;
    if (typeof o.name === 'string') return o.name;
    return Object.entries(o)
      .map(([k, x]) => `${label(k)}: ${text(x)}`)
      .join('; ');
  }
  return String(v);
}

/**
 * An entry's details as label/value lines a person can read. A `changes` object (field → from/to) becomes
 * one line per field; `actingAs` is left out because "Who" already says it.
 */
export function detailLines(
  details: Record<string, unknown>,
  formatTime: (ms: number) => string = (ms) => new Date(ms).toISOString(),
): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(details)) {
    if (k === 'actingAs') continue;
    // epoch milliseconds under a name like endsAt are a time, not a number to read
    if (/At$/.test(k) && typeof v === 'number' && v > 1e11) {
      out.push([label(k), formatTime(v)]);
      continue;
    }
    if (k === 'changes' && isObject(v)) {
      for (const [field, change] of Object.entries(v)) out.push([label(field), text(change)]);
      continue;
    }
    if (k === 'after' && isObject(v)) {
      const before = isObject(details.before) ? details.before : {};
      for (const [field, after] of Object.entries(v))
        out.push([label(field), field in before ? `${text(before[field])} → ${text(after)}` : text(after)]);
      continue;
    }
    if (k === 'before' && isObject(v) && isObject(details.after)) continue;
    out.push([label(k), text(v)]);
  }
  return out;
}

/** Midnight at the start of `day` (yyyy-mm-dd) in `timeZone`, as an ISO instant for the API's from/to. */
export function startOfDay(day: string, timeZone: string | undefined, plusDays = 0): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays);
  let offset = 0;
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timeZone || 'UTC',
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(new Date(guess));
    const n = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
    offset = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - guess;
  } catch {
    offset = 0;
  }
  return new Date(guess - offset).toISOString();
}
