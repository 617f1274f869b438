import { WsError } from '../ws-errors.js';
import type { VtqlColumns, VtqlCondition, VtqlOperator, VtqlQuery } from './vtql-ast.js';
import { lexVtql, type VtqlToken } from './vtql-lexer.js';

const OPERATORS: Record<string, VtqlOperator> = {
  '=': '=',
  '<': '<',
  '>': '>',
  '<=': '<=',
  '>=': '>=',
  '!=': '!=',
  in: 'IN',
  like: 'LIKE',
};
const OP_NAMES = 'EQ,LT,GT,LTE,GTE,NE,IN,LIKE';
const PUNCT_NAMES: Record<string, string> = {
  ',': 'COMMA',
  '*': 'ASTERISK',
  '(': 'PARENOPEN',
  ')': 'PARENCLOSE',
  '=': 'EQ',
  '<': 'LT',
  '>': 'GT',
  '<=': 'LTE',
  '>=': 'GTE',
  '!=': 'NE',
  ';': 'SEMICOLON',
};
const KEYWORD_NAMES: Record<string, string> = {
  select: 'SELECT',
  from: 'FRM',
  where: 'WHERE',
  and: 'LOGICAL_AND',
  or: 'LOGICAL_OR',
  in: 'IN',
  like: 'LIKE',
  order: 'ORDERBY',
  asc: 'ASC',
  desc: 'DESC',
  limit: 'LIMIT',
  count: 'COUNT',
};
/** Words the lexer always reads as keywords, never as a column or module name. */
const RESERVED = new Set(['select', 'from', 'where', 'and', 'or', 'order', 'limit']);
/** Offsets beyond this cannot point at a row; capped so the number stays exact in every driver. */
const MAX_OFFSET = 2 ** 31 - 1;

/** A recursive-descent reading of Vtiger's VTQL grammar, with Vtiger's syntax-error messages. */
class Parser {
  private pos = 0;
  constructor(private readonly tokens: VtqlToken[]) {}

  parse(): VtqlQuery {
    this.keyword('select', 'SELECT');
    const columns = this.columns();
    this.keyword('from', 'FRM');
    const module = this.word('TABLENAME');
    const where: VtqlCondition[] = [];
    let orderBy: string[] = [];
    let direction: VtqlQuery['direction'] = null;
    let limit: VtqlQuery['limit'] = null;
    let expected = 'WHERE,ORDERBY,LIMIT,SEMICOLON';
    if (this.peekWord('where')) {
      this.pos++;
      do where.push(this.condition(where.length === 0 ? null : this.connector()));
      while (this.peekWord('and') || this.peekWord('or'));
      expected = 'LOGICAL_AND,LOGICAL_OR,ORDERBY,LIMIT,SEMICOLON';
    }
    if (this.peekWord('order')) {
      this.pos++;
      this.keyword('by', 'ORDERBY');
      orderBy = this.list(() => this.word('COLUMNNAME'));
      if (this.peekWord('asc') || this.peekWord('desc')) {
        direction = this.next()!.value.toLowerCase() === 'asc' ? 'ASC' : 'DESC';
      }
      expected = 'LIMIT,SEMICOLON';
    }
    if (this.peekWord('limit')) {
      this.pos++;
      const first = this.integer();
      if (this.peekPunct(',')) {
        this.pos++;
        limit = { offset: Math.min(first, MAX_OFFSET), count: this.integer() };
      } else {
        limit = { offset: 0, count: first };
      }
      expected = 'SEMICOLON';
    }
    this.punct(';', expected);
    if (this.pos < this.tokens.length) this.fail('');
    return { columns, module, where, orderBy, direction, limit };
  }

  private columns(): VtqlColumns {
    if (this.peekPunct('*')) {
      this.pos++;
      return { kind: 'all' };
    }
    if (this.peekWord('count') && this.tokens[this.pos + 1]?.text === '(') {
      this.pos++;
      this.punct('(', 'PARENOPEN');
      this.punct('*', 'ASTERISK');
      this.punct(')', 'PARENCLOSE');
      return { kind: 'count' };
    }
    return { kind: 'list', fields: this.list(() => this.word('COLUMNNAME,ASTERISK,COUNT')) };
  }

  private condition(connector: VtqlCondition['connector']): VtqlCondition {
    const field = this.word('COLUMNNAME');
    const t = this.next();
    const op = t && (t.kind === 'punct' || t.kind === 'word') ? OPERATORS[t.value.toLowerCase()] : undefined;
    if (!op) this.fail(OP_NAMES, t);
    let values: string[];
    if (this.peekPunct('(')) {
      this.pos++;
      values = this.list(() => this.value());
      this.punct(')', 'COMMA,PARENCLOSE');
    } else {
      values = [this.value()];
    }
    return { connector, field, op: op!, values };
  }

  private connector(): 'AND' | 'OR' {
    return this.next()!.value.toLowerCase() === 'and' ? 'AND' : 'OR';
  }

  private value(): string {
    const t = this.next();
    if (!t || t.kind === 'punct') this.fail('VALUE', t);
    return t!.value;
  }

  private integer(): number {
    const t = this.next();
    if (t?.kind !== 'number' || t.value.startsWith('-')) this.fail('VALUE', t);
    const n = Number(t!.value);
    return Number.isSafeInteger(n) ? n : MAX_OFFSET;
  }

  private list<T>(item: () => T): T[] {
    const out = [item()];
    while (this.peekPunct(',')) {
      this.pos++;
      out.push(item());
    }
    return out;
  }

  private word(expected: string): string {
    const t = this.next();
    if (t?.kind !== 'word' || RESERVED.has(t.value.toLowerCase())) this.fail(expected, t);
    return t!.value;
  }

  private keyword(word: string, expected: string): void {
    const t = this.next();
    if (t?.kind !== 'word' || t.value.toLowerCase() !== word) this.fail(expected, t);
  }

  private punct(p: string, expected: string): void {
    const t = this.next();
    if (t?.kind !== 'punct' || t.value !== p) this.fail(expected, t);
  }

  private peekWord(word: string): boolean {
    const t = this.tokens[this.pos];
    return t?.kind === 'word' && t.value.toLowerCase() === word;
  }

  private peekPunct(p: string): boolean {
    const t = this.tokens[this.pos];
    return t?.kind === 'punct' && t.value === p;
  }

  private next(): VtqlToken | undefined {
    return this.tokens[this.pos++];
  }

  /** "Syntax Error on line 1: token 'X' Unexpected NAME(value), expected one of: A,B" — Vtiger's wording. */
  private fail(expected: string, offending?: VtqlToken): never {
    const t = offending ?? this.tokens[this.pos];
    const last = t ?? this.tokens[this.tokens.length - 1];
    const seen = last ? last.text : '';
    const unexpected = t ? `${tokenName(t)}(${t.text})` : 'End of Input(0)';
    throw new WsError(
      'QUERY_SYNTAX_ERROR',
      `Syntax Error on line 1: token '${seen}' Unexpected ${unexpected}, expected one of: ${expected}`,
    );
  }
}

function tokenName(t: VtqlToken): string {
  if (t.kind === 'punct') return PUNCT_NAMES[t.value] ?? 'Unknown';
  if (t.kind === 'word') return KEYWORD_NAMES[t.value.toLowerCase()] ?? 'COLUMNNAME';
  return 'VALUE';
}

export function parseVtql(input: string): VtqlQuery {
  return new Parser(lexVtql(input)).parse();
}
