import { describe, expect, it } from 'vitest';
import { literalFunction } from './object-literal.js';

describe('literalFunction', () => {
  it('returns one literal of the entries in order; no key runs as code or sets the prototype', () => {
    const hostile = ['__proto__', '"]: 1 }; throw new Error("ran"); ({ ["', 'constructor', 'a\nb', '\u2028'];
    const build = literalFunction<(v: unknown[]) => Record<string, unknown>>(
      ['v'],
      hostile.map((key, i) => [key, (k) => `v[${i}] + ${k}.length`]),
    );
    const out = build([1, 2, 3, 4, 5]);
    expect(Object.keys(out)).toEqual(hostile);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(hostile.map((key) => Object.getOwnPropertyDescriptor(out, key)?.value)).toEqual(
      hostile.map((key, i) => i + 1 + key.length),
    );
  });
});
