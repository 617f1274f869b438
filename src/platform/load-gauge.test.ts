import { describe, expect, it } from 'vitest';
import { LoadGauge } from './load-gauge.js';

/**
 * Keeps the event loop busy for `ms` (synchronously, as a request burning CPU would); answers the time since
 * `from`, the window's length so far. On a loaded machine the process may lose the CPU for a while in the
 * middle, which lengthens the window: requests in flight throughout are reported for that length, not for
 * `ms` (a 200 ms pause once made a "saturated" window read under half a request in flight).
 */
function spin(ms: number, from = performance.now()): number {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
  return performance.now() - from;
}
const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each call closes one window of `g`, saturated (a request keeping the loop busy) or quiet: busy after it? */
function windowOf(g: LoadGauge) {
  let from = performance.now();
  return (saturated: boolean): boolean => {
    // more than three requests in flight throughout the window
    if (saturated) g.requestDone(3 * spin(30, from) + 10);
    g.sample();
    from = performance.now();
    return g.busy;
  };
}

describe('LoadGauge', () => {
  it('is busy only when the loop was busy and requests kept it so', async () => {
    const g = new LoadGauge({ recentWindows: 1, saturatedWindows: 1 });
    g.sample();
    // a busy loop with requests in flight throughout (their durations add up to more than the window)
    const window = spin(60);
    g.requestDone(window);
    g.requestDone(window);
    g.sample();
    expect(g.busy).toBe(true);
    // the same busy loop with no request waiting: background work alone is not load
    spin(60);
    g.sample();
    expect(g.busy).toBe(false);
    // requests, but an idle loop (waiting on the database, say). A window in which a loaded machine took the
    // CPU from this process between the sample and the wait reads busy (the timer is due before the loop
    // idles): such a window is measured again, a few times at most.
    for (let window = 0; window < 5; window++) {
      await idle(60);
      g.requestDone(80);
      g.sample();
      if (!g.busy) break;
    }
    expect(g.busy).toBe(false);
  });

  it('is busy when requests queue on a loop that is busy too (waiting on PostgreSQL, say)', async () => {
    // thresholds far apart, so the timers' imprecision cannot decide: the loop about half busy
    const g = new LoadGauge({
      recentWindows: 1,
      saturatedWindows: 1,
      utilization: 0.99,
      queueUtilization: 0.3,
      queueConcurrency: 4,
    });
    const window = async (inFlight: number, busyMs: number) => {
      g.sample();
      spin(busyMs);
      await idle(40 - busyMs);
      g.requestDone(inFlight * 40);
      g.sample();
      return g.busy;
    };
    // many requests in flight while the loop works half the time: they wait for each other
    expect(await window(8, 20)).toBe(true);
    // the same loop with few requests: a moderate rate, not load
    expect(await window(1, 20)).toBe(false);
    // many requests but an idle loop: the database is slow, this process has room
    expect(await window(8, 0)).toBe(false);
  });

  it('notices a flood from three windows in a row, and holds it until most recent windows were quiet', () => {
    const g = new LoadGauge();
    g.sample();
    const window = windowOf(g);
    const windows = (...saturated: boolean[]) => saturated.map(window);
    // one or two windows over, between quiet ones, are not load (a moderate rate going over for a moment)
    expect(windows(false, true, false, true, true, false, false)).toEqual(Array(7).fill(false));
    // a flood: busy from its third window on, and a few windows under do not end it
    expect(windows(true, true, true, false, true, false, false, true, true, true)).toEqual([
      false,
      false,
      ...Array(8).fill(true),
    ]);
    // three in a row count as a flood again; it ends when five of the last twelve windows were quiet
    expect(windows(false, false, false, false, false)).toEqual([true, true, true, true, false]);
    // and a single window over after it is not a new flood
    expect(window(true)).toBe(false);
  });

  it('holds a flood the loop carries while half the recent windows were saturated; one of queued requests needs two thirds', () => {
    const flood = (g: LoadGauge) => {
      g.sample();
      const window = windowOf(g);
      // a flood starts, then every other window reads just under
      expect([true, true, true].map(window)).toEqual([false, false, true]);
      return Array.from({ length: 24 }, (_, i) => window(i % 2 === 1)).at(-1);
    };
    // the loop busy throughout: the first rule
    expect(flood(new LoadGauge())).toBe(true);
    // the same windows saturated by the queue rule only (the first cannot be met)
    expect(flood(new LoadGauge({ utilization: 1.01, queueUtilization: 0.5, queueConcurrency: 2 }))).toBe(
      false,
    );
  });

  it('is not busy when stopped', () => {
    const g = new LoadGauge({ recentWindows: 1, saturatedWindows: 1 });
    g.start();
    expect(windowOf(g)(true)).toBe(true);
    g.stop();
    expect(g.busy).toBe(false);
  });
});
