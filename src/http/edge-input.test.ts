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

  it('leave a binary body (a raw email) alone, NULs included, however large', () => {
    // walking a body byte by byte as an object took seconds per megabyte. Each one carries a property that
    // such a walk would visit and refuse (a NUL), so a walk shows as a failure here, not as a slow test
    const probed = <T extends object>(body: T): T =>
      Object.defineProperty(body, 'probe', { enumerable: true, value: 'walked\u0000' });
    const raw = Buffer.alloc(8_000_000, 0);
    expect(findHostileInput(probed(raw), 'body')).toBeNull();
    expect(findHostileInput(probed(new Uint8Array(raw)), 'body')).toBeNull();
    expect(findHostileInput(probed(new ArrayBuffer(8_000_000)), 'body')).toBeNull();
    // the probe itself is what a walk would find
    expect(findHostileInput({ ...probed({}) }, 'body')?.field).toBe('body.probe');
  });
});
