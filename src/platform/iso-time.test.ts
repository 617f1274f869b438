import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTimestamp, sqlDateTime } from './iso-time.js';

describe('isoTimestamp', () => {
  it('writes what Date#toISOString writes, for every millisecond Date can hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
        expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('at the edges: the epoch, leap days, the turn of the year 10000, fractions and NaN', () => {
    for (const ms of [
      0,
      951_782_400_000, // 2000-02-29
      4_107_456_000_000, // 2100-02-28 (2100 is no leap year)
      253_402_300_799_999,
      253_402_300_800_000,
      -1,
      1.5,
    ])
      expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
    expect(() => isoTimestamp(Number.NaN)).toThrow(RangeError);
  });
});

describe('sqlDateTime', () => {
  it("is the ISO timestamp's first 19 characters with a space for the T", () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(sqlDateTime(ms)).toBe(isoTimestamp(ms).slice(0, 19).replace('T', ' '));
      }),
      { numRuns: 20_000 },
    );
    expect(sqlDateTime(951_782_400_123)).toBe('2000-02-29 00:00:00');
    expect(() => sqlDateTime(Number.NaN)).toThrow(RangeError);
  });
});
