import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAccessKey, generateAccessKey, KEY_LENGTH, KEY_PREFIX, keyHint } from './access-key.format.js';

describe('access key format', () => {
  it('generates prefixed keys of fixed length that pass their own checks', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const k = generateAccessKey();
      expect(k.startsWith(KEY_PREFIX)).toBe(true);
      expect(k).toHaveLength(KEY_LENGTH);
      expect(checkAccessKey(k)).toEqual({ ok: true });
      keys.add(k);
    }
    expect(keys.size).toBe(200);
  });

  it.each([
    [' ', 'leading space'],
    ['\t', 'leading tab'],
  ])('reports whitespace (%j, %s) before anything else', (ws) => {
    const k = generateAccessKey();
    expect(checkAccessKey(ws + k)).toEqual({ ok: false, problem: 'WHITESPACE' });
    expect(checkAccessKey(k + ws)).toEqual({ ok: false, problem: 'WHITESPACE' });
    expect(checkAccessKey(`${k}\n`)).toEqual({ ok: false, problem: 'WHITESPACE' });
  });

  it('reports a malformed key', () => {
    expect(checkAccessKey('7IJXiH9gR4FfCPZp')).toEqual({ ok: false, problem: 'MALFORMED' });
    expect(checkAccessKey(`${generateAccessKey()}x`)).toEqual({ ok: false, problem: 'MALFORMED' });
    expect(checkAccessKey('')).toEqual({ ok: false, problem: 'MALFORMED' });
  });

  it('catches every single-character typo with the checksum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: KEY_PREFIX.length, max: KEY_LENGTH - 1 }),
        fc.integer({ min: 1, max: 61 }),
        (pos, shift) => {
          const k = generateAccessKey();
          const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
          const changed = alphabet[(alphabet.indexOf(k[pos]!) + shift) % 62]!;
          const typo = k.slice(0, pos) + changed + k.slice(pos + 1);
          expect(checkAccessKey(typo)).toEqual({ ok: false, problem: 'CHECKSUM' });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('shows only a hint of a key', () => {
    const k = generateAccessKey();
    const hint = keyHint(k);
    expect(hint.startsWith(k.slice(0, 8))).toBe(true);
    expect(hint.length).toBeLessThan(14);
  });
});
