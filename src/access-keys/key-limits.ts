/**
 * In-process limits on the key path: a token bucket per key (request rate) and a fixed-window count of
 * failed key attempts per client IP. The rate is per replica by design: an exact cluster-wide count would
 * put a database write on every request, so N replicas allow at most N times the configured rate. On
 * PostgreSQL the failure count lives in the database instead (key-failures.ts) and this only remembers
 * the addresses it blocked (`block`), told by this process or by another one over NOTIFY.
 */
export class KeyLimits {
  private buckets = new Map<number, { tokens: number; at: number }>();
  private failures = new Map<string, { count: number; windowStart: number }>();
  private blocked = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly maxFailures: number,
    private readonly failureWindowMs: number,
  ) {}

  /** Takes one request from the key's bucket; returns seconds to wait when empty. */
  take(keyId: number, now: number): { ok: true } | { ok: false; retryAfter: number } {
    const ratePerMs = this.perMinute / 60_000;
    const b = this.buckets.get(keyId) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * ratePerMs);
    b.at = now;
    this.buckets.set(keyId, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfter: Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000)) };
  }

  failureBlocked(ip: string, now: number): number | null {
    const until = this.blocked.get(ip);
    if (until !== undefined) {
      if (now < until) return Math.max(1, Math.ceil((until - now) / 1000));
      this.blocked.delete(ip);
    }
    const f = this.failures.get(ip);
    if (!f || now - f.windowStart >= this.failureWindowMs) return null;
    return f.count >= this.maxFailures
      ? Math.max(1, Math.ceil((f.windowStart + this.failureWindowMs - now) / 1000))
      : null;
  }

  noteFailure(ip: string, now: number): void {
    const f = this.failures.get(ip);
    if (!f || now - f.windowStart >= this.failureWindowMs) {
      if (this.failures.size > 100_000) this.sweep(now);
      this.failures.set(ip, { count: 1, windowStart: now });
    } else {
      f.count++;
    }
  }

  /** Refuses `ip` until `until` (its failures, counted by the database, reached the limit). */
  block(ip: string, until: number, now: number): void {
    if (this.blocked.size > 100_000) this.sweep(now);
    this.blocked.set(ip, Math.max(until, this.blocked.get(ip) ?? 0));
  }

  private sweep(now: number): void {
    for (const [ip, until] of this.blocked) if (now >= until) this.blocked.delete(ip);
    for (const [ip, f] of this.failures)
      if (now - f.windowStart >= this.failureWindowMs) this.failures.delete(ip);
  }
}
