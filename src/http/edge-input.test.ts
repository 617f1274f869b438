import { describe, expect, it } from 'vitest';
import { findHostileInput } from './edge-input.js';

describe('edge input checks', () => {
  it('refuse NUL in strings and keys and ids beyond 32 bits', () => {
    expect(findHostileInput({ a: { b: 'x\u0000' } }, 'body')).toEqual({
      field: 'body.a.b',
      problem: 'must not contain a NUL character',
    });
    expect(findHostileInput({ roleId: 2 ** 40 }, 'body')?.field).toBe('body.roleId');
    expect(findHostileInput({ list: ['ok', 'fine'] }, 'body')).toBeNull();
  });

  it('leave a binary body (a raw email) alone, NULs included, at once however large', () => {
    const raw = Buffer.alloc(8_000_000, 0);
    const t = performance.now();
    expect(findHostileInput(raw, 'body')).toBeNull();
    expect(findHostileInput(new Uint8Array(raw), 'body')).toBeNull();
    expect(findHostileInput(raw.buffer, 'body')).toBeNull();
    // walking it byte by byte took seconds per megabyte
    expect(performance.now() - t).toBeLessThan(50);
  });
});
