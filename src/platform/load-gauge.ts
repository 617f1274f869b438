import { performance } from 'node:perf_hooks';

/**
 * Whether this process is saturated by requests right now, so background work (webhook deliveries) can
 * give way to the people and integrations waiting for answers. Saturated means, over the last window: the
 * event loop was busy nearly all the time *and* requests kept it so — on average at least half a request
 * was in flight (the sum of finished requests' durations over the window, Little's law; a saturated
 * process measured 0.8–0.9 under 8 concurrent clients, since parsing and writing a request fall outside
 * its measured time). The second condition keeps background work from throttling itself: a sender
 * working off a backlog alone keeps the loop busy but no request waits. (Requests queueing for
 * PostgreSQL while this loop idles are not counted: at 200 paced writes a second they kept 4 in flight,
 * and throttling the sender then made its backlog grow without end.)
 */
export class LoadGauge {
  private lastElu = performance.eventLoopUtilization();
  private lastAt = performance.now();
  private requestMs = 0;
  private saturated = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: { windowMs?: number; utilization?: number; concurrency?: number } = {},
  ) {}

  /** A request finished after `ms` (its whole time in this process). */
  requestDone(ms: number): void {
    this.requestMs += ms;
  }

  /** True while the last window was saturated by requests. */
  get busy(): boolean {
    return this.saturated;
  }

  /** Samples every window from now on (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.lastElu = performance.eventLoopUtilization();
    this.lastAt = performance.now();
    this.requestMs = 0;
    this.timer = setInterval(() => this.sample(), this.opts.windowMs ?? 100);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.saturated = false;
  }

  /** Closes the current window (the timer calls it; tests call it directly). */
  sample(): void {
    const now = performance.now();
    const elu = performance.eventLoopUtilization(this.lastElu);
    const concurrency = this.requestMs / Math.max(1, now - this.lastAt);
    this.saturated =
      elu.utilization >= (this.opts.utilization ?? 0.9) && concurrency >= (this.opts.concurrency ?? 0.5);
    this.lastElu = performance.eventLoopUtilization();
    this.lastAt = now;
    this.requestMs = 0;
  }
}
