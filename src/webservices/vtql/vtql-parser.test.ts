import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WsError } from '../ws-errors.js';
import { parseVtql } from './vtql-parser.js';

function syntaxError(q: string): string {
  try {
    parseVtql(q);
  } catch (e) {
    if (e instanceof WsError && e.code === 'QUERY_SYNTAX_ERROR') return e.message;
    throw e;
  }
  throw new Error(`parsed: ${q}`);
}

describe('VTQL parser', () => {
  it('reads the queries of the captured exchanges', () => {
    expect(parseVtql('SELECT * FROM Contacts LIMIT 10;')).toEqual({
      columns: { kind: 'all' },
      module: 'Contacts',
      where: [],
      orderBy: [],
      direction: null,
      limit: { offset: 0, count: 10 },
    });
    const q = parseVtql(
      "SELECT firstname, lastname, email FROM Contacts WHERE lastname = 'Lovelace' ORDER BY lastname LIMIT 0, 5;",
    );
    expect(q.columns).toEqual({ kind: 'list', fields: ['firstname', 'lastname', 'email'] });
    expect(q.where).toEqual([{ connector: null, field: 'lastname', op: '=', values: ['Lovelace'] }]);
    expect(q.orderBy).toEqual(['lastname']);
    expect(q.limit).toEqual({ offset: 0, count: 5 });
  });

  it.each([
    ['SELECT * FROM Contacts WHERE', "token 'WHERE' Unexpected End of Input(0), expected one of: COLUMNNAME"],
    ['SELECT * FROM Contacts LIMIT 1', "token '1' Unexpected End of Input(0), expected one of: SEMICOLON"],
    [
      'SELECT FROM Contacts;',
      "token 'FROM' Unexpected FRM(FROM), expected one of: COLUMNNAME,ASTERISK,COUNT",
    ],
    [
      'SELECT * FROM Contacts',
      "token 'Contacts' Unexpected End of Input(0), expected one of: WHERE,ORDERBY,LIMIT,SEMICOLON",
    ],
    [
      "SELECT * FROM Contacts WHERE a 'x';",
      "token ''x'' Unexpected VALUE('x'), expected one of: EQ,LT,GT,LTE,GTE,NE,IN,LIKE",
    ],
  ])('refuses %j with Vtiger’s message', (q, message) => {
    expect(syntaxError(q)).toBe(`Syntax Error on line 1: ${message}`);
  });

  it('reads count(*), IN lists, LIKE, AND/OR left to right, ORDER BY with one direction and LIMIT m,n', () => {
    expect(parseVtql('select count(*) from Leads;').columns).toEqual({ kind: 'count' });
    const q = parseVtql(
      "SELECT * FROM Contacts WHERE id IN ('12x1','12x2') AND lastname LIKE 'O''Br%' OR age >= -5 ORDER BY a, b DESC LIMIT 5, 1000;",
    );
    expect(q.where.map((c) => [c.connector, c.field, c.op, c.values])).toEqual([
      [null, 'id', 'IN', ['12x1', '12x2']],
      ['AND', 'lastname', 'LIKE', ["O'Br%"]],
      ['OR', 'age', '>=', ['-5']],
    ]);
    expect([q.orderBy, q.direction, q.limit]).toEqual([['a', 'b'], 'DESC', { offset: 5, count: 1000 }]);
  });

  it.each([
    'SELECT * FROM Contacts; DROP TABLE users;',
    "SELECT * FROM Contacts WHERE lastname = 'x' -- ';",
    'SELECT * FROM Contacts WHERE lastname = "x";',
    "SELECT * FROM Contacts WHERE lastname = '';",
    'SELECT * FROM Contacts LIMIT -1;',
    'SELECT * FROM Contacts LIMIT 1,2,3;',
    'SELECT * FROM Contacts, Leads;',
    'SELECT * FROM Contacts WHERE (a = 1);',
  ])('refuses %j as a syntax error', (q) => {
    expect(() => parseVtql(q)).toThrowError(WsError);
  });

  it('never crashes: any input parses or is a QUERY_SYNTAX_ERROR', () => {
    const pieces = fc.constantFrom(
      'SELECT',
      'select',
      '*',
      'count(*)',
      'FROM',
      'Contacts',
      'WHERE',
      'lastname',
      '=',
      '!=',
      '<=',
      'IN',
      'LIKE',
      "'x'",
      "'O''Brien'",
      '(',
      ')',
      ',',
      'AND',
      'OR',
      'ORDER',
      'BY',
      'ASC',
      'DESC',
      'LIMIT',
      '5',
      '-3',
      ';',
      "'",
      '"',
      '--',
      '/*',
      '\\',
      'x',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(pieces, { maxLength: 20 }).map((a) => a.join(' ')),
        ),
        (q) => {
          try {
            parseVtql(q);
          } catch (e) {
            expect(e).toBeInstanceOf(WsError);
            expect((e as WsError).code).toBe('QUERY_SYNTAX_ERROR');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
