import { WsError } from '../ws-errors.js';

export type VtqlTokenKind = 'word' | 'string' | 'number' | 'punct';

export interface VtqlToken {
  kind: VtqlTokenKind;
  /** as written (strings keep their quotes, as Vtiger's lexer value does) */
  text: string;
  /** the literal value: strings unquoted with '' turned into ' */
  value: string;
}

/**
 * Vtiger's VTQL tokens: `\w+` (ASCII, as PCRE without /u), single-quoted strings with '' as an escaped
 * quote and at least one character, integers with an optional sign, and , * ( ) = < > <= >= != ;.
 * Vtiger's own lexer splits <=, >= and != into two tokens and then fails; we read them as documented.
 */
const TOKEN = /\s*(?:([A-Za-z0-9_]+)|'((?:[^']|'')+)'|([+-]?\d+)|(<=|>=|!=|[,*()=<>;]))/y;

export const MAX_QUERY_LENGTH = 10_000;

export function lexVtql(input: string): VtqlToken[] {
  if (input.length > MAX_QUERY_LENGTH) {
    throw new WsError('QUERY_SYNTAX_ERROR', `The query is longer than ${MAX_QUERY_LENGTH} characters`);
  }
  const tokens: VtqlToken[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  for (;;) {
    while (pos < input.length && /\s/.test(input.charAt(pos))) pos++;
    if (pos >= input.length) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(input);
    if (!m) {
      const at = input.slice(pos).trimStart().charAt(0);
      throw new WsError('QUERY_SYNTAX_ERROR', `Unexpected input at line1: ${at}`);
    }
    pos = TOKEN.lastIndex;
    if (m[1] !== undefined)
      tokens.push({ kind: /^\d+$/.test(m[1]) ? 'number' : 'word', text: m[1], value: m[1] });
    else if (m[2] !== undefined)
      tokens.push({ kind: 'string', text: `'${m[2]}'`, value: m[2].replaceAll("''", "'") });
    else if (m[3] !== undefined) tokens.push({ kind: 'number', text: m[3], value: m[3] });
    else tokens.push({ kind: 'punct', text: m[4]!, value: m[4]! });
  }
  return tokens;
}
