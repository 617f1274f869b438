import { describe, expect, it } from 'vitest';
import { upkeepDue } from './upkeep.js';

describe('upkeepDue', () => {
  it('is due once per period for each owner and task, and at once after the clock went back', () => {
    const a = {};
    const b = {};
    expect(upkeepDue(a, 'sweep', 1_000, 60_000)).toBe(true);
    expect(upkeepDue(a, 'sweep', 30_000, 60_000)).toBe(false);
    expect(upkeepDue(a, 'other', 30_000, 60_000)).toBe(true);
    expect(upkeepDue(b, 'sweep', 30_000, 60_000)).toBe(true);
    expect(upkeepDue(a, 'sweep', 61_000, 60_000)).toBe(true);
    expect(upkeepDue(a, 'sweep', 61_001, 60_000)).toBe(false);
    expect(upkeepDue(a, 'sweep', 500, 60_000)).toBe(true);
  });
});
