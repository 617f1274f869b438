import { describe, expect, it } from 'vitest';
import { type FieldDef, type FieldType, f } from './field.types.js';
import { coerceFieldValue, fromColumn, toColumn } from './field-coerce.js';

const field = (type: FieldType, extra: Partial<FieldDef> = {}): FieldDef =>
  f.field({ name: 'x', label: 'X', type, picklistValues: ['Red', 'Green'], ...extra });

describe('coerceFieldValue', () => {
  const accepted: Array<[FieldType, unknown, unknown]> = [
    ['string', 'abc', 'abc'],
    ['string', 42, '42'],
    ['text', 'line\nline', 'line\nline'],
    ['email', ' a@b.co ', 'a@b.co'],
    ['phone', '+1 (555) 123-4567', '+1 (555) 123-4567'],
    ['url', 'www.example.com', 'www.example.com'],
    ['integer', '-12', -12],
    ['integer', 7, 7],
    ['decimal', '3.25', 3.25],
    ['currency', 10.5, 10.5],
    ['date', '2024-02-29', '2024-02-29'],
    ['datetime', '2026-01-02 03:04:05', Date.UTC(2026, 0, 2, 3, 4, 5)],
    ['datetime', '2026-01-02T03:04:05+01:00', Date.UTC(2026, 0, 2, 2, 4, 5)],
    ['datetime', '2026-01-02', Date.UTC(2026, 0, 2)],
    ['boolean', 'yes', true],
    ['boolean', '0', false],
    ['boolean', true, true],
    ['picklist', 'red', 'Red'],
    ['multipicklist', 'Red |##| Green', ['Red', 'Green']],
    ['multipicklist', ['green', 'Green'], ['Green']],
    ['reference', '15', 15],
    ['owner', 1, 1],
    ['string', '', null],
    ['integer', null, null],
  ];
  it.each(accepted)('accepts a %s given %j', (type, raw, want) => {
    expect(coerceFieldValue(field(type), raw)).toEqual({ ok: true, value: want });
  });

  const refused: Array<[FieldType, unknown]> = [
    ['string', 'x'.repeat(256)],
    ['string', { a: 1 }],
    ['string', 'a\u0000b'],
    ['email', 'not-an-email'],
    ['phone', 'call me maybe'],
    ['integer', '1.5'],
    ['integer', '99999999999'],
    ['integer', 'NaN'],
    ['decimal', 'Infinity'],
    ['currency', '1e20'],
    ['date', '2023-02-29'],
    ['date', '29/02/2024'],
    ['datetime', 'tomorrow'],
    ['boolean', 'maybe'],
    ['picklist', 'Blue'],
    ['multipicklist', ['Red', 'Blue']],
    ['reference', '12x5'],
    ['reference', -1],
    ['owner', 1.5],
  ];
  it.each(refused)('refuses a %s given %j with a reason', (type, raw) => {
    const c = coerceFieldValue(field(type), raw);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.problem.length).toBeGreaterThan(5);
  });

  it('round-trips booleans and multipicklists through their column form', () => {
    expect(fromColumn(field('boolean'), toColumn(field('boolean'), true))).toBe(true);
    expect(toColumn(field('multipicklist'), ['Red', 'Green'])).toBe('Red |##| Green');
    expect(fromColumn(field('multipicklist'), 'Red |##| Green')).toEqual(['Red', 'Green']);
  });
});
