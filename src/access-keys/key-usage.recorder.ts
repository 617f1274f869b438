import type { Kysely } from 'kysely';
import { classifyDatabaseError } from '../db/db-errors.js';
import { transaction } from '../db/direct-transaction.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';

const HOUR = 3_600_000;
const KEEP_USAGE_MS = 48 * HOUR;

interface Pending {
  lastUsedAt: number;
  lastUsedIp: string;
  /** hour bucket → requests */
  hours: Map<number, number>;
}

/**
 * Key use is noted in memory on every request and written in batches, so authenticating a request never
 * costs a database write. Flushed on a timer and on shutdown.
 */
export class KeyUsageRecorder {
  private pending = new Map<number, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  note(keyId: number, ip: string): void {
    const now = this.clock.now();
    const hour = now - (now % HOUR);
    const p = this.pending.get(keyId) ?? { lastUsedAt: now, lastUsedIp: ip, hours: new Map() };
    p.lastUsedAt = now;
    p.lastUsedIp = ip;
    p.hours.set(hour, (p.hours.get(hour) ?? 0) + 1);
    this.pending.set(keyId, p);
  }

  /** Not yet written use of a key, so readers see it before the next flush. */
  peek(
    keyId: number,
  ): { lastUsedAt: number; lastUsedIp: string; requestsSince(since: number): number } | undefined {
    const p = this.pending.get(keyId);
    if (!p) return undefined;
    return {
      lastUsedAt: p.lastUsedAt,
      lastUsedIp: p.lastUsedIp,
      requestsSince: (since) =>
        [...p.hours].filter(([h]) => h >= since - (since % HOUR)).reduce((n, [, c]) => n + c, 0),
    };
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await transaction(this.db, async (trx) => {
        for (const [keyId, p] of batch) {
          await trx
            .updateTable('access_keys')
            .set({ last_used_at: p.lastUsedAt, last_used_ip: p.lastUsedIp })
            .where('id', '=', keyId)
            .execute();
          for (const [hour, requests] of p.hours) {
            await trx
              .insertInto('access_key_usage')
              .values({ key_id: keyId, hour, requests })
              .onConflict((oc) =>
                oc
                  .columns(['key_id', 'hour'])
                  .doUpdateSet((eb) => ({ requests: eb('access_key_usage.requests', '+', requests) })),
              )
              .execute();
          }
        }
        await trx
          .deleteFrom('access_key_usage')
          .where('hour', '<', this.clock.now() - KEEP_USAGE_MS)
          .execute();
      });
    } catch (err) {
      // a database outage is reported once by the request path and the pool; no stack every flush
      if (classifyDatabaseError(err)?.kind === 'unavailable')
        this.logger.warn(`could not record access-key usage (database unavailable); will retry`);
      else this.logger.warn({ err }, 'could not record access-key usage; will retry');
      for (const [keyId, p] of batch) {
        const cur = this.pending.get(keyId);
        if (!cur) this.pending.set(keyId, p);
        else for (const [h, c] of p.hours) cur.hours.set(h, (cur.hours.get(h) ?? 0) + c);
      }
    }
  }
}
