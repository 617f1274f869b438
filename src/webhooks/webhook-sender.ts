import type { AuditActor } from '../audit/audit.repository.js';
import { recordAudit } from '../audit/audit.repository.js';
import type { Db } from '../db/database.js';
import { classifyDatabaseError } from '../db/db-errors.js';
import { enqueueMail } from '../mail/mail-queue.repository.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { SecretBox } from '../platform/secrets.js';
import {
  type ClaimedDelivery,
  claimDueDeliveries,
  finishDelivery,
  insertAttempt,
  webhookMaySend,
} from './webhook.repository.js';
import type { PostOutcome, WebhookHttp } from './webhook-http.js';
import { signedHeaders } from './webhook-signing.js';

/** Svix's schedule: the delay before attempt n+1 after attempt n failed (attempt 1 is immediate). */
export const RETRY_SCHEDULE_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;
/** a webhook failing without a single success for this long is switched off and its owner emailed */
export const DISABLE_AFTER_MS = 5 * 24 * 3_600_000;
const MAX_RETRY_AFTER_MS = 36_000_000;
const MAX_IN_FLIGHT = 64;
const CLAIM_BATCH = 64;

export const SYSTEM_ACTOR: AuditActor = {
  userId: null,
  username: 'system',
  ip: null,
  userAgent: 'rapport-webhooks',
  requestId: null,
};

/** Delivers the `webhook_deliveries` outbox. Work lives in the table, so a crash only delays delivery. */
export interface WebhookSender {
  /** look for due deliveries now (after a commit that wrote some) */
  kick(): void;
  /** deliver everything due now, including retries that fall due meanwhile; resolves with attempts made */
  drain(): Promise<number>;
  /** poll for retries and for deliveries left by a crashed replica */
  start(intervalMs?: number): void;
  stop(): Promise<void>;
}

export interface SenderDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  http: WebhookHttp;
  timeoutMs: number;
  mailFrom: string;
  /** wake the mail queue after an auto-disable emailed the owner */
  mailKick: () => void;
  /** kick on commit; off: deliveries wait for `drain`, the poll or another replica */
  auto?: boolean;
  /** jitter factor source (tests pin it) */
  random?: () => number;
}

/** The delay before the next attempt after `attempts` failed ones, ±20 % jitter; null when out of attempts. */
export function retryDelay(attempts: number, random: () => number = Math.random): number | null {
  const base = RETRY_SCHEDULE_MS[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}

export function createWebhookSender(deps: SenderDeps): WebhookSender {
  const { db, clock, logger, secrets, http } = deps;
  const random = deps.random ?? Math.random;
  const claimMs = deps.timeoutMs + 30_000;
  const inFlight = new Set<Promise<void>>();
  const opened = new Map<string, string>();
  let pumping: Promise<number> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;

  function open(sealed: string): string {
    let plain = opened.get(sealed);
    if (plain === undefined) {
      if (opened.size > 10_000) opened.clear();
      plain = secrets.decrypt(sealed);
      opened.set(sealed, plain);
    }
    return plain;
  }

  /** Claims as many due deliveries as there are free slots and starts them; answers how many it started. */
  async function pumpOnce(): Promise<number> {
    const free = MAX_IN_FLIGHT - inFlight.size;
    if (free <= 0 || stopped) return 0;
    const batch = await claimDueDeliveries(
      db.kysely,
      db.dialect,
      clock.now(),
      claimMs,
      Math.min(free, CLAIM_BATCH),
    );
    const allowed = new Map<number, Promise<boolean>>();
    for (const d of batch) {
      let may = allowed.get(d.webhook_id);
      if (!may) {
        may = webhookMaySend(db.kysely, d.webhook_id);
        allowed.set(d.webhook_id, may);
      }
      const p: Promise<void> = may
        .then((ok) => (ok ? deliver(d) : cancel(d)))
        .catch((err: unknown) => logger.error({ err, deliveryId: d.id }, 'webhook delivery failed to record'))
        .finally(() => {
          inFlight.delete(p);
          if (!stopped) pump();
        });
      inFlight.add(p);
    }
    return batch.length;
  }

  /** Runs pumpOnce until nothing more is claimable; concurrent calls coalesce into one more round. */
  function pump(): Promise<number> {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      let started = 0;
      try {
        do {
          again = false;
          const n = await pumpOnce();
          started += n;
          if (n === CLAIM_BATCH) again = true;
        } while (again && inFlight.size < MAX_IN_FLIGHT && !stopped);
        if (failures > 0) logger.info({ afterFailures: failures }, 'webhook sender resumed');
        failures = 0;
      } catch (err) {
        failures++;
        if (classifyDatabaseError(err)?.kind !== 'unavailable')
          logger.error({ err }, 'webhook sender failed');
        else if (failures === 1) logger.warn('webhook sender paused: the database is unavailable');
      } finally {
        pumping = null;
      }
      return started;
    })();
    return pumping;
  }

  async function cancel(d: ClaimedDelivery): Promise<void> {
    await finishDelivery(db.kysely, d.id, {
      status: 'cancelled',
      next_attempt_at: d.next_attempt_at,
      finished_at: clock.now(),
      last_status_code: null,
      last_error: 'not sent: the webhook is off, or its owner has no API access',
    });
  }

  async function deliver(d: ClaimedDelivery): Promise<void> {
    const now = clock.now();
    const keys = [open(d.secret_sealed)];
    if (d.previous_secret_sealed && (d.previous_secret_expires_at ?? 0) > now)
      keys.push(open(d.previous_secret_sealed));
    const outcome = await http.post(d.url, signedHeaders(d.msg_id, d.payload, keys), d.payload);
    await record(d, outcome);
  }

  async function record(d: ClaimedDelivery, o: PostOutcome): Promise<void> {
    const now = clock.now();
    const code = o.statusCode;
    const ok = code !== null && code >= 200 && code < 300;
    const gone = code === 410;
    let next: number | null = null;
    if (!ok && !gone) {
      const delay = retryDelay(d.attempts, random);
      if (delay !== null) {
        const asked = (code === 429 || code === 503) && o.retryAfterMs !== null ? o.retryAfterMs : null;
        next = now + (asked !== null ? Math.min(Math.max(asked, delay), MAX_RETRY_AFTER_MS) : delay);
      }
    }
    const error =
      o.error ??
      (ok
        ? null
        : code !== null && code >= 300 && code < 400
          ? `HTTP ${code} (redirects are not followed)`
          : `HTTP ${code}`);
    await db.kysely.transaction().execute(async (trx) => {
      await insertAttempt(trx, {
        delivery_id: d.id,
        webhook_id: d.webhook_id,
        at: now,
        status_code: code,
        latency_ms: o.latencyMs,
        error,
        response_body: o.body,
        next_attempt_at: next,
      });
      await finishDelivery(trx, d.id, {
        status: ok ? 'delivered' : next !== null ? 'pending' : 'failed',
        next_attempt_at: next ?? d.next_attempt_at,
        finished_at: next !== null ? null : now,
        last_status_code: code,
        last_error: error,
      });
      if (ok) {
        await trx
          .updateTable('webhooks')
          .set({ failing_since: null })
          .where('id', '=', d.webhook_id)
          .where('failing_since', 'is not', null)
          .execute();
        return;
      }
      const hook = await trx
        .selectFrom('webhooks as w')
        .innerJoin('users as u', 'u.id', 'w.user_id')
        .select(['w.id', 'w.url', 'w.enabled', 'w.failing_since', 'u.email', 'u.username'])
        .where('w.id', '=', d.webhook_id)
        .executeTakeFirst();
      if (!hook) return;
      const since = hook.failing_since ?? now;
      if (hook.failing_since === null)
        await trx.updateTable('webhooks').set({ failing_since: now }).where('id', '=', hook.id).execute();
      const reason = gone
        ? 'the receiver answered 410 Gone'
        : now - since >= DISABLE_AFTER_MS
          ? 'every delivery failed for 5 days'
          : null;
      if (!reason || !hook.enabled) return;
      // several deliveries of one webhook fail at once: only the one that switches it off tells anyone
      const switched = await trx
        .updateTable('webhooks')
        .set({ enabled: 0, disabled_reason: reason, updated_at: now })
        .where('id', '=', hook.id)
        .where('enabled', '=', 1)
        .executeTakeFirst();
      if (Number(switched.numUpdatedRows) === 0) return;
      await recordAudit(
        trx,
        SYSTEM_ACTOR,
        { action: 'webhook.disabled', target: { type: 'webhook', id: hook.id }, details: { reason } },
        now,
      );
      await enqueueMail(
        trx,
        {
          to: hook.email,
          subject: 'Rapport switched off one of your webhooks',
          text:
            `Your webhook ${hook.id} (${hook.url}) was switched off because ${reason}.\n\n` +
            'Check the receiver, then switch the webhook on again in My Preferences → Webhooks. ' +
            'Changes made while it was off are not sent.',
        },
        deps.mailFrom,
        now,
      );
      logger.warn({ webhookId: hook.id }, `webhook switched off: ${reason}`);
      setImmediate(deps.mailKick);
    });
  }

  async function drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const started = await pump();
      total += started;
      if (inFlight.size > 0) {
        await Promise.all([...inFlight]);
        continue;
      }
      if (started === 0) return total;
    }
  }

  return {
    kick: () => {
      if (deps.auto !== false) void pump();
    },
    drain,
    start: (intervalMs = 1000) => {
      timer = setInterval(() => void pump(), intervalMs);
      timer.unref();
    },
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await pumping;
      await Promise.all([...inFlight]);
      http.close();
    },
  };
}
