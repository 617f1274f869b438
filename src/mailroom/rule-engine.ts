import vm from 'node:vm';
import type { ParsedMail } from './mail-parse.js';

export const CONDITION_FIELDS = ['from', 'to', 'cc', 'subject', 'body'] as const;
export const CONDITION_OPS = [
  'contains',
  'not_contains',
  'equals',
  'not_equals',
  'begins_with',
  'ends_with',
  'regex',
  'has_ticket_number',
] as const;
export type ConditionField = (typeof CONDITION_FIELDS)[number];
export type ConditionOp = (typeof CONDITION_OPS)[number];

export interface Condition {
  field: ConditionField;
  op: ConditionOp;
  value: string;
}

/** How long one rule regex may run against one message before the message fails with that reason. */
export const REGEX_TIME_LIMIT_MS = 50;
/** Rule regexes see at most this much of a field (bodies are capped when parsed, this bounds the rest). */
const REGEX_INPUT_CHARS = 65_536;
/** Vtiger's "Ticket Id: 12" and Rapport's ticket numbers "TT12", optionally in brackets. */
export const TICKET_NUMBER = /\b(?:Ticket Id[^:]?:\s*|\[?)(TT\d{1,10})\b|Ticket Id[^:]?:\s*(\d{1,10})/i;

export class RegexTimeout extends Error {
  constructor(readonly pattern: string) {
    super(`the rule regex /${pattern}/ took longer than ${REGEX_TIME_LIMIT_MS} ms on this message`);
  }
}

/** What the time box runs: a RegExp, or in tests anything with its `test`. */
interface Tester {
  test(s: string): boolean;
}

const sandbox = vm.createContext({ re: null as Tester | null, s: '' });
const testScript = new vm.Script('re.test(s)');

/** Runs a rule regex with a time box: a catastrophic pattern fails the message, never the server. */
export function timeBoxedTest(pattern: string, text: string): boolean {
  return timeBoxed(new RegExp(pattern, 'i'), pattern, text);
}

/**
 * The time box is wall-clock time (Node's `vm` has no other), so a pattern that needs a microsecond can
 * overrun it when the process stops for a garbage collection or waits for a core: beside four busy
 * processes on the 2-core machine, with garbage to collect, a trivial regex's call took up to 51 ms in
 * 3,000. A pattern times out only when it overruns twice in a row: a catastrophic one always does (the
 * message fails after ~2 × 50 ms), a stall seldom strikes twice.
 */
export function timeBoxed(re: Tester, pattern: string, text: string): boolean {
  sandbox.re = re;
  sandbox.s = text.length > REGEX_INPUT_CHARS ? text.slice(0, REGEX_INPUT_CHARS) : text;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return testScript.runInContext(sandbox, { timeout: REGEX_TIME_LIMIT_MS }) === true;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
        if (attempt === 2) throw new RegexTimeout(pattern);
      }
    }
  } finally {
    sandbox.re = null;
    sandbox.s = '';
  }
}

/** The problem with a regex an admin typed, or null when it compiles. */
export function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern, 'i');
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function ticketNumberIn(text: string): string | null {
  const m = TICKET_NUMBER.exec(text);
  if (!m) return null;
  return m[1] ? m[1].toUpperCase() : m[2] ? `TT${m[2]}` : null;
}

/** The values a condition looks at: one string, or each address of a list (any may match). */
function valuesOf(mail: ParsedMail, field: ConditionField): string[] {
  switch (field) {
    case 'from':
      return mail.from ? [mail.from.address, mail.from.name].filter((v) => v !== '') : [];
    case 'to':
      return mail.to;
    case 'cc':
      return mail.cc;
    case 'subject':
      return [mail.subject];
    case 'body':
      return [mail.body];
  }
}

function test(op: ConditionOp, value: string, target: string): boolean {
  const t = target.toLowerCase();
  const v = value.toLowerCase();
  switch (op) {
    case 'contains':
      return t.includes(v);
    case 'equals':
      return t.trim() === v.trim();
    case 'begins_with':
      return t.startsWith(v);
    case 'ends_with':
      return t.endsWith(v);
    case 'regex':
      return timeBoxedTest(value, target);
    case 'has_ticket_number':
      return ticketNumberIn(target) !== null;
    case 'not_contains':
    case 'not_equals':
      return false; // handled by the negation below
  }
}

export function conditionHolds(mail: ParsedMail, c: Condition): boolean {
  const values = valuesOf(mail, c.field);
  if (c.op === 'not_contains') return !values.some((t) => test('contains', c.value, t));
  if (c.op === 'not_equals') return !values.some((t) => test('equals', c.value, t));
  return values.some((t) => test(c.op, c.value, t));
}

/** All (AND) or any (OR) of the conditions; a rule without conditions matches every message. */
export function ruleMatches(
  mail: ParsedMail,
  mode: 'all' | 'any',
  conditions: readonly Condition[],
): boolean {
  if (conditions.length === 0) return true;
  return mode === 'all'
    ? conditions.every((c) => conditionHolds(mail, c))
    : conditions.some((c) => conditionHolds(mail, c));
}
