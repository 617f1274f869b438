import { performance } from 'node:perf_hooks';

/**
 * Whether this process is saturated by requests right now, so background work (webhook deliveries) can
 * give way to the people and integrations waiting for answers. Saturated means, over the last window: the
 * event loop was busy nearly all the time *and* requests kept it so — on average at least half a request
 * was in flight (the sum of finished requests' durations over the window, Little's law; a saturated
 * process measured 0.8–0.9 under 8 concurrent clients, since parsing and writing a request fall outside
 * its measured time). The second condition keeps background work from throttling itself: a sender
 * working off a backlog alone keeps the loop busy but no request waits. Also saturated: at least 4
 * requests in flight on average while the loop is at least 75 % busy — on PostgreSQL a flood keeps the
 * loop only 80–95 % busy (it waits for the database), with 5–7 requests in flight under 8 clients, and the
 * first rule alone let the sender run at full speed through it. Requests queueing for PostgreSQL while
 * this loop idles are not counted: 200 paced writes a second kept 1–3.5 in flight (4 on a slower day),
 * and throttling the sender then made its backlog grow without end.
 */
export class LoadGauge {
  private lastElu = performance.eventLoopUtilization();
  private lastAt = performance.now();
  private requestMs = 0;
  private saturated = false;
  /** the last windows, newest in bit 0: 1 = saturated */
  private history = 0;
  /** the same for the windows the loop itself saturated (the first rule) */
  private loopHistory = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: {
      windowMs?: number;
      utilization?: number;
      concurrency?: number;
      /** also saturated: requests queueing (`queueConcurrency` in flight) on a loop this busy (a database's wait) */
      queueUtilization?: number;
      queueConcurrency?: number;
      /**
       * busy when at least `saturatedWindows` (default 8) of the last `recentWindows` (default 12) were, or
       * at least `loopSaturatedWindows` (default 6) were saturated by the first rule (the loop itself)
       */
      recentWindows?: number;
      saturatedWindows?: number;
      loopSaturatedWindows?: number;
      /** busy at once when the last `risingWindows` (default 3) were all saturated: a flood starting, which
       * then counts as saturated in every remembered window */
      risingWindows?: number;
    } = {},
  ) {}

  /** A request finished after `ms` (its whole time in this process). */
  requestDone(ms: number): void {
    this.requestMs += ms;
  }

  /** True while requests saturate the process: a flood noticed and not yet over (see `sample`). */
  get busy(): boolean {
    return this.saturated;
  }

  /** Samples every window from now on (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.lastElu = performance.eventLoopUtilization();
    this.lastAt = performance.now();
    this.requestMs = 0;
    this.timer = setInterval(() => this.sample(), this.opts.windowMs ?? 25);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.saturated = false;
    this.history = 0;
    this.loopHistory = 0;
  }

  /** Closes the current window (the timer calls it; tests call it directly). */
  sample(): void {
    const now = performance.now();
    const elu = performance.eventLoopUtilization(this.lastElu);
    const concurrency = this.requestMs / Math.max(1, now - this.lastAt);
    const loopBound =
      elu.utilization >= (this.opts.utilization ?? 0.9) && concurrency >= (this.opts.concurrency ?? 0.5);
    const saturated =
      loopBound ||
      (elu.utilization >= (this.opts.queueUtilization ?? 0.75) &&
        concurrency >= (this.opts.queueConcurrency ?? 4));
    // busy when most recent windows were saturated: under a steady flood some windows measure just under
    // (a client late with its next request, a collection), and the burst of deliveries each let in cost
    // a fifth of the requests; at a moderate rate single windows go over now and then, and throttling the
    // sender for each let its backlog grow. A flood is noticed from a few windows in a row and counts as
    // established at once (every remembered window saturated), so it ends only when most recent windows
    // were quiet: with 100 ms windows and two of three it took 200 ms to notice, while the sender
    // delivered at full speed and a flood starting from rest ran at a third of its rate.
    const recent = this.opts.recentWindows ?? 12;
    const all = (1 << recent) - 1;
    const rising = (1 << (this.opts.risingWindows ?? 3)) - 1;
    this.history = ((this.history << 1) | (saturated ? 1 : 0)) & all;
    if ((this.history & rising) === rising) this.history = all;
    // A flood the loop itself carries is noisier window by window: on a 2-core machine shared with its
    // clients, 25–35 % of its windows read just under 0.9, so "8 of 12" let the sender run at full speed for
    // about a third of it. Half of the recent windows are enough for it. Not for the queue rule: 200 paced
    // writes a second on PostgreSQL sometimes queue 4 requests on a busy loop, and counting those windows
    // at half raised that load's commit-to-delivery p99 (95–236 ms against 52–187; docs/performance.md).
    this.loopHistory = ((this.loopHistory << 1) | (loopBound ? 1 : 0)) & all;
    this.saturated =
      bitCount(this.history) >= (this.opts.saturatedWindows ?? 8) ||
      bitCount(this.loopHistory) >= (this.opts.loopSaturatedWindows ?? 6);
    this.lastElu = performance.eventLoopUtilization();
    this.lastAt = now;
    this.requestMs = 0;
  }
}

function bitCount(n: number): number {
  let c = 0;
  for (let x = n; x !== 0; x &= x - 1) c++;
  return c;
}
