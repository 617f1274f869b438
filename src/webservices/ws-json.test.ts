import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LiteralEntry, literalFunction } from '../platform/object-literal.js';
import { errorBody, PhpJson, phpJsonEncode, phpJsonObjectFunction, successBody } from './ws-json.js';

/** The definition: JSON.stringify's text with PHP's escapes added. */
const phpJsonEncodeReference = (value: unknown) =>
  (JSON.stringify(value) as string).replace(/[\u0080-\uffff/]/g, (ch) =>
    ch === '/' ? '\\/' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

describe('PHP-compatible JSON', () => {
  it('escapes / and non-ASCII like json_encode, as the Vtiger 8.2 captures show', () => {
    expect(phpJsonEncode({ d: `quote ' and "double" and unicode é`, u: 'a/b', e: '😀' })).toBe(
      '{"d":"quote \' and \\"double\\" and unicode \\u00e9","u":"a\\/b","e":"\\ud83d\\ude00"}',
    );
  });

  it('puts message before code in errors, and parses back to the same values', () => {
    expect(errorBody('ACCESS_DENIED', 'No username given')).toBe(
      '{"success":false,"error":{"message":"No username given","code":"ACCESS_DENIED"}}',
    );
    const value = { s: 'ünïcödé / \u2028', n: 1, a: [] };
    expect(JSON.parse(successBody(value))).toEqual({ success: true, result: value });
  });

  it('writes what JSON.stringify writes, with the escapes added, for any value', () => {
    const text = fc.string({
      unit: fc.oneof(
        fc.constantFrom('/', '"', '\\', '\u007f', '\u0000'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
    });
    fc.assert(
      fc.property(
        fc.anything({
          key: text,
          values: [
            text,
            fc.double(),
            fc.integer(),
            fc.boolean(),
            fc.constant(null),
            fc.constant(undefined),
            fc.date(),
          ],
          withBoxedValues: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withSparseArray: true,
          withObjectString: true,
        }),
        (value) => {
          expect(phpJsonEncode({ success: true, result: value })).toBe(
            phpJsonEncodeReference({ success: true, result: value }),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('calls toJSON with the property name, skips functions and symbols, and throws on a bigint', () => {
    const seen: string[] = [];
    const value = {
      at: new Date(Date.UTC(2026, 11, 5, 17, 0, 0)),
      own: {
        toJSON: (key: string) => {
          seen.push(key);
          return `own ${key}/x`;
        },
      },
      list: [undefined, () => 1, Symbol('s'), { toJSON: () => undefined }, Number.NaN, -0],
      gone: undefined,
      fn: () => 1,
      boxed: [new String('é'), new Number(2), new Boolean(false)],
      map: new Map([[1, 2]]),
    };
    expect(phpJsonEncode(value)).toBe(phpJsonEncodeReference(value));
    expect(seen).toEqual(['own', 'own']);
    expect(() => phpJsonEncode({ n: 1n })).toThrow(TypeError);
  });

  it('leaves out what Object.prototype was given, as JSON.stringify does', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 'yes';
    try {
      expect(phpJsonEncode({ a: 1, b: [{ c: 'x' }], d: new PhpJson('[1]') })).toBe(
        '{"a":1,"b":[{"c":"x"}],"d":[1]}',
      );
    } finally {
      delete proto.polluted;
    }
  });

  it('writes the JSON phpJsonEncode writes for the object literalFunction builds from the same entries', () => {
    const text = fc.string({
      unit: fc.oneof(
        fc.constantFrom('/', '"', '\\', 'é', '\u2028'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
    });
    const value = fc.oneof(
      text,
      fc.integer(),
      fc.constant(undefined),
      fc.constant(null),
      fc.constant(() => 1),
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(text, value), { selector: ([k]) => k, maxLength: 12 }), (pairs) => {
        const values = pairs.map(([, v]) => v);
        const entries = pairs.map(([k], i): LiteralEntry => [k, () => `v[${i}]`]);
        const object = literalFunction<(v: unknown[]) => object>(['v'], entries)(values);
        const json = phpJsonObjectFunction<(v: unknown[]) => string>(['v'], entries)(values);
        expect(json).toBe(phpJsonEncode(object));
        expect(phpJsonEncode({ result: [new PhpJson(json)] })).toBe(
          phpJsonEncodeReference({ result: [object] }),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
