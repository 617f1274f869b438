import { describe, expect, it } from 'vitest';
import { REGEX_TIME_LIMIT_MS, RegexTimeout, timeBoxed, timeBoxedTest } from './rule-engine.js';

/** Keeps the thread busy for `ms`, as a garbage collection or a wait for a core would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

describe('rule regexes run in a time box', () => {
  it('a pattern that overruns once (a stall of the process) still answers', () => {
    let calls = 0;
    const once = {
      test: (s: string) => {
        calls++;
        if (calls === 1) stall(REGEX_TIME_LIMIT_MS * 3);
        return s === 'match me';
      },
    };
    expect(timeBoxed(once, 'stalls once', 'match me')).toBe(true);
    expect(calls).toBe(2);
  });

  it('a pattern that overruns every time fails with RegexTimeout, after two tries', () => {
    let calls = 0;
    const always = {
      test: () => {
        calls++;
        stall(REGEX_TIME_LIMIT_MS * 3);
        return true;
      },
    };
    expect(() => timeBoxed(always, 'always slow', 'x')).toThrow(RegexTimeout);
    expect(calls).toBe(2);
  });

  it('a catastrophic regex is stopped; the next one runs normally', () => {
    expect(() => timeBoxedTest('^(a+)+$', `${'a'.repeat(40)}!`)).toThrow(
      /took longer than 50 ms on this message/,
    );
    expect(timeBoxedTest('^the scans', 'The scans you asked for')).toBe(true);
    expect(timeBoxedTest('^(a|a)+$', 'The scans you asked for')).toBe(false);
  });
});
