import type { Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import { classifyDatabaseError } from '../db/db-errors.js';
import { inWriteTransaction, writeStatements } from '../db/group-commit.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { SecretBox } from '../platform/secrets.js';
import { payloadBodies } from './webhook.repository.js';
import type { WebhookDeliveryRow } from './webhook.table.js';
import type { WebhookHttp } from './webhook-http.js';
import {
  claimDueDeliveries,
  deleteFinishedDeliveries,
  expandWebhookEvents,
  releaseClaims,
  type SendingWebhook,
  sendingWebhooks,
} from './webhook-outbox.repository.js';
import { recordOutcomes, type SendResult, succeeded } from './webhook-outcomes.js';
import { signedHeaders } from './webhook-signing.js';

export { DISABLE_AFTER_MS, MAX_ATTEMPTS, RETRY_SCHEDULE_MS, retryDelay } from './webhook-outcomes.js';

/** at most this many HTTP requests at once (per process) */
export const MAX_IN_FLIGHT = 128;
/** one webhook's requests at once: a receiver that hangs holds at most this many slots */
export const MAX_IN_FLIGHT_PER_WEBHOOK = 64;
/** the last slots, kept for webhooks with fewer than RESERVED_SHARE requests in flight (see `mayStart`) */
const RESERVED_SLOTS = 32;
const RESERVED_SHARE = 4;
/** claim at most this many deliveries per query */
export const CLAIM_BATCH = 128;
/** turn at most this many webhook events into deliveries per transaction */
const EXPAND_BATCH = 200;
/** while requests saturate the process, events are expanded at most this often (a few at a time) */
const BUSY_EXPAND_MS = 100;
/** retention deletes this many deliveries per statement, so it never holds the write lock for long */
const RETENTION_BATCH = 1000;
/**
 * After rest, and after requests saturated the process, deliveries start at RAMP_START_RATE a second
 * (RAMP_BURST at once) and the rate doubles every RAMP_DOUBLE_MS until RAMP_FULL_RATE, after which
 * nothing limits it. The load gauge needs ~90 ms to notice a flood of requests and sees its lulls only
 * afterwards; at full speed the sender started 150–460 deliveries in a flood's first 100 ms and as many in
 * each lull, all of them work the requests then waited behind.
 */
const RAMP_START_RATE = 1_000;
const RAMP_BURST = 32;
const RAMP_DOUBLE_MS = 100;
const RAMP_FULL_RATE = 16_000;
/** without starting a delivery for this long (and none in flight) the sender is at rest */
const RAMP_REST_MS = 500;
/** how long the ramp lasts */
const RAMP_MS = RAMP_DOUBLE_MS * Math.log2(RAMP_FULL_RATE / RAMP_START_RATE);

/** How many deliveries the ramp lets start in its first `ms` (Infinity once it has reached full speed). */
export function rampBudget(ms: number): number {
  if (ms >= RAMP_MS) return Number.POSITIVE_INFINITY;
  // the burst, and the integral of the doubling rate
  return (
    RAMP_BURST + ((RAMP_START_RATE * RAMP_DOUBLE_MS) / 1000 / Math.LN2) * (2 ** (ms / RAMP_DOUBLE_MS) - 1)
  );
}
const HOUSEKEEPING_MS = 3_600_000;
/** results that could not be written are tried again this much later */
const WRITE_RETRY_MS = 500;
/** ...as long as their claim holds this much longer: a result written after the claim lapsed could race
 * with another sender's attempt */
const CLAIM_MARGIN_MS = 2_000;

/**
 * Delivers the webhook outbox: turns `webhook_events` into `webhook_deliveries` and sends those. Work lives
 * in the tables, so a crash only delays delivery.
 */
export interface WebhookSender {
  /**
   * Look for waiting events and due deliveries now. `eventCommitted`: this process has just committed a
   * webhook event, so the expansion need not first ask whether one waits.
   */
  kick(eventCommitted?: boolean): void;
  /** deliver everything due now, including retries that fall due meanwhile; resolves with attempts made */
  drain(): Promise<number>;
  /** delete finished deliveries older than the retention period; resolves with how many went */
  housekeep(): Promise<number>;
  /** poll for retries and for deliveries left by a crashed replica; housekeeping hourly */
  start(intervalMs?: number): void;
  stop(): Promise<void>;
  /** what this process has sent since it started (for /metrics): attempts answered 2xx, and all others */
  readonly stats: { readonly succeeded: number; readonly failed: number };
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
  /** finished deliveries and their attempts are deleted this long after they finished (default 30 days) */
  retentionMs?: number;
  /** jitter factor source (tests pin it) */
  random?: () => number;
  /** whether requests saturate this process now (LoadGauge): deliveries then start at most `busyRate`/s */
  busy?: () => boolean;
  /** deliveries started per second while `busy` (default 100): they wait, they are never dropped */
  busyRate?: number;
  /**
   * The webhooks that may send are cached (auth cache): when an outcome switches one off, `announce` tells
   * the other replicas in the transaction (answering the auth version it moved to) and `clear` drops this
   * process's copy after commit.
   */
  webhooksChanged?: {
    announce(trx: Transaction<Database>): Promise<number | undefined>;
    clear(authVersion: number | undefined): void;
  };
}

/**
 * The sender's loop: expand waiting events into deliveries, claim a batch of due deliveries in one
 * statement, post them concurrently (at most MAX_IN_FLIGHT at once, keep-alive connections), and write the
 * results of everything that finished meanwhile in one transaction. Writing results frees the next delivery of each record, so every write is
 * followed by another claim.
 */
export function createWebhookSender(deps: SenderDeps): WebhookSender {
  const { db, clock, logger, secrets, http } = deps;
  const random = deps.random ?? Math.random;
  const retentionMs = deps.retentionMs ?? 30 * 86_400_000;
  // long enough for the attempt and writing its result; after a crash the claim lapses this soon
  const claimMs = deps.timeoutMs + 15_000;
  const inFlight = new Set<Promise<void>>();
  const perWebhook = new Map<number, number>();
  /**
   * Webhooks whose receivers ran into the timeout, and how many requests each may now have in flight:
   * halved by every attempt that took the whole timeout (a receiver that hangs), doubled back by every one
   * that did not, and forgotten at MAX_IN_FLIGHT_PER_WEBHOOK. A receiver that hangs then ties up one slot
   * per timeout instead of a wave of 64 after every timeout.
   */
  const limits = new Map<number, number>();
  const opened = new Map<string, string>();
  let results: SendResult[] = [];
  /** cancelled deliveries whose write has not finished: no claim runs while there are any (see `claimOnce`) */
  let cancelsUnwritten = 0;
  let pumping: Promise<void> | null = null;
  let pumpAgain = false;
  let writing: Promise<void> | null = null;
  let writeQueued = false;
  let writeRetry: NodeJS.Timeout | undefined;
  let timers: NodeJS.Timeout[] = [];
  let stopped = false;
  let failures = 0;
  let attempts = 0;
  const stats = { succeeded: 0, failed: 0 };
  /** shrinks while claims bring more than their webhooks have room for, doubles back otherwise */
  let claimSize = CLAIM_BATCH;
  const busyRate = Math.max(1, deps.busyRate ?? 100);
  /** a token bucket for deliveries started while busy: a tenth of a second's worth at most */
  const bucket = { tokens: 0, at: 0, capacity: Math.max(1, Math.round(busyRate / 10)) };
  let busyRetry: NodeJS.Timeout | undefined;
  let draining = 0;
  /** webhook events may be waiting to become deliveries (a commit wrote some, a poll, or start-up) */
  let expandDue = true;
  /** a commit here wrote an event since the last expansion began: it skips its "anything waiting?" read */
  let eventWaits = false;
  let lastBusyExpand = -Infinity;
  /** the last claim took every due delivery it asked for: more may wait, so events stay events for now */
  let deliveriesWait = false;
  /** deliveries per event in the last expansion: how many events to read for the deliveries wanted */
  let fanout = 1;
  /** the ramp after rest or saturation: when it began and how many deliveries started since */
  const ramp = { from: -Infinity, started: 0 };
  let lastStart = -Infinity;

  /** Pumps again after `ms` (once): for work that may not go now but nobody will kick for. */
  function retryLater(ms: number): void {
    if (busyRetry || stopped) return;
    busyRetry = setTimeout(() => {
      busyRetry = undefined;
      void pump();
    }, ms);
    busyRetry.unref();
  }

  /** While requests saturate the process: how many of `wanted` deliveries may start now (tokens taken). */
  function takeTokens(wanted: number): number {
    const now = performance.now();
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + ((now - bucket.at) * busyRate) / 1000);
    bucket.at = now;
    // in batches of a full bucket: a claim per commit that woke the sender would cost more than the sending
    const allowed =
      bucket.tokens >= Math.min(wanted, bucket.capacity) ? Math.min(wanted, Math.floor(bucket.tokens)) : 0;
    bucket.tokens -= allowed;
    // no tokens yet: look again when they are due (nobody may kick while a backlog waits); a claim that
    // got tokens decides for itself, from what it found (claimOnce)
    if (allowed === 0) retryLater(100);
    return allowed;
  }

  function open(sealed: string): string {
    let plain = opened.get(sealed);
    if (plain === undefined) {
      if (opened.size > 10_000) opened.clear();
      plain = secrets.decrypt(sealed);
      opened.set(sealed, plain);
    }
    return plain;
  }

  /**
   * Whether one more request of this webhook may start now: below its own limit, and, once all but
   * RESERVED_SLOTS slots are taken, only while it has fewer than RESERVED_SHARE in flight. So however many
   * receivers hang (two could otherwise hold all 128 slots until their timeout, and again after it), the
   * other webhooks keep slots to send on.
   */
  function mayStart(webhookId: number): boolean {
    const n = perWebhook.get(webhookId) ?? 0;
    if (n >= (limits.get(webhookId) ?? MAX_IN_FLIGHT_PER_WEBHOOK)) return false;
    return inFlight.size < MAX_IN_FLIGHT - RESERVED_SLOTS || n < RESERVED_SHARE;
  }

  /** Adjusts a webhook's limit after an attempt (see `limits`). */
  function adjustLimit(webhookId: number, latencyMs: number): void {
    const limit = limits.get(webhookId) ?? MAX_IN_FLIGHT_PER_WEBHOOK;
    if (latencyMs >= deps.timeoutMs) limits.set(webhookId, Math.max(1, Math.floor(limit / 2)));
    else if (limit * 2 >= MAX_IN_FLIGHT_PER_WEBHOOK) limits.delete(webhookId);
    else limits.set(webhookId, limit * 2);
  }

  function send(d: WebhookDeliveryRow, hook: SendingWebhook, body: string): void {
    attempts++;
    perWebhook.set(d.webhook_id, (perWebhook.get(d.webhook_id) ?? 0) + 1);
    const keys = [open(hook.secret_sealed)];
    if (hook.previous_secret_sealed && (hook.previous_secret_expires_at ?? 0) > clock.now())
      keys.push(open(hook.previous_secret_sealed));
    const p: Promise<void> = http
      .post(hook.url, signedHeaders(d.msg_id, body, keys), body)
      .then((outcome) => {
        adjustLimit(d.webhook_id, outcome.latencyMs);
        if (succeeded(outcome.statusCode)) stats.succeeded++;
        else stats.failed++;
        results.push({ kind: 'attempt', delivery: d, at: clock.now(), outcome, random: random() });
      })
      .catch((err: unknown) => logger.error({ err, deliveryId: d.id }, 'webhook post failed'))
      .finally(() => {
        inFlight.delete(p);
        const left = (perWebhook.get(d.webhook_id) ?? 1) - 1;
        if (left > 0) perWebhook.set(d.webhook_id, left);
        else perWebhook.delete(d.webhook_id);
        scheduleWrite();
      });
    inFlight.add(p);
  }

  /**
   * Turns waiting webhook events into deliveries, a batch per transaction; answers whether to expand again
   * at once. Events become deliveries only as fast as they are sent: not while the last claim took every
   * due delivery it asked for (more wait already), and no more than the free request slots and one more
   * claim can take. An event is one row however many webhooks listen; expanded ahead of sending it was ten
   * rows with ten copies of its body, and a flood of writes expanded ~20,000 deliveries in 3 s while ~1,500
   * were sent (docs/performance.md). While requests saturate the process this runs at most every
   * BUSY_EXPAND_MS, for no more deliveries than the busy rate lets start meanwhile, so the writes that
   * queued them are not slowed by their fan-out; the backlog goes at full speed afterwards.
   */
  async function expandOnce(): Promise<boolean> {
    if (!expandDue || stopped || deliveriesWait) return false;
    const room = MAX_IN_FLIGHT - inFlight.size;
    // every slot busy: whatever finishes writes its result and pumps again
    if (room <= 0) return false;
    const busy = draining === 0 && (deps.busy?.() ?? false);
    if (busy) {
      const now = performance.now();
      if (now - lastBusyExpand < BUSY_EXPAND_MS) {
        retryLater(BUSY_EXPAND_MS - (now - lastBusyExpand));
        return false;
      }
      lastBusyExpand = now;
    }
    expandDue = false;
    const probe = !eventWaits;
    eventWaits = false;
    // while busy, no more deliveries than the busy rate can start meanwhile: the rest waits as events
    const maxDeliveries = busy ? bucket.capacity : room + CLAIM_BATCH;
    const x = await expandWebhookEvents(
      db,
      Math.min(EXPAND_BATCH, Math.ceil(maxDeliveries / fanout)),
      maxDeliveries,
      probe,
    );
    if (x === null) {
      // another process is expanding; it may stop before our events, so look again soon
      expandDue = true;
      retryLater(25);
      return false;
    }
    if (x.events > 0) fanout = x.listed / x.events;
    if (!x.more) return false;
    // more wait: at once, or while busy at the next turn
    expandDue = true;
    if (busy) retryLater(BUSY_EXPAND_MS);
    return !busy;
  }

  /** Claims as many due deliveries as there are free slots and starts them; answers how many it claimed. */
  async function claimOnce(): Promise<{ claimed: number; more: boolean }> {
    const room = Math.min(MAX_IN_FLIGHT - inFlight.size, claimSize);
    if (room <= 0 || stopped) return { claimed: 0, more: false };
    // Cancelled deliveries hold no slot, so nothing else bounds them: a claim waits until those of earlier
    // claims are written (the write pumps again when done) — whatever asks for it, a kick or a timer.
    // Claiming on meanwhile once piled up every pending delivery of webhooks switched off with a backlog
    // as unwritten results, re-claiming them as their claims lapsed.
    if (cancelsUnwritten > 0) return { claimed: 0, more: false };
    // an explicit drain wants everything now; only the automatic sending gives way to requests
    const charged = draining === 0 && (deps.busy?.() ?? false);
    const now = performance.now();
    let asked = room;
    if (charged) {
      asked = takeTokens(room);
      // the ramp begins when the saturation ends
      ramp.from = now;
      ramp.started = 0;
    } else if (draining === 0) {
      if (inFlight.size === 0 && now - lastStart > RAMP_REST_MS) {
        ramp.from = now;
        ramp.started = 0;
      }
      asked = Math.min(room, Math.max(0, Math.floor(rampBudget(now - ramp.from) - ramp.started)));
      // nothing allowed yet: look again when the ramp allows more (nothing else may pump meanwhile)
      if (asked <= 0) retryLater(RAMP_DOUBLE_MS / 10);
    }
    if (asked <= 0) return { claimed: 0, more: false };
    const saturated = [...perWebhook.keys()].filter((id) => !mayStart(id));
    // SQLite: in the group commit (a write of its own would split its batches); sent only once committed
    const batch = await writeStatements(db, (w) =>
      claimDueDeliveries(w, db.dialect, clock.now(), claimMs, asked, saturated),
    );
    // tokens of deliveries that were not there go back
    if (charged) bucket.tokens = Math.min(bucket.capacity, bucket.tokens + asked - batch.length);
    deliveriesWait = batch.length === asked;
    // cut short by the busy rate or the ramp with all it asked for found: more may be due when they allow
    // more. One that found fewer than it asked for has left nothing due: new work kicks, retries come with
    // the poll (a saturated process otherwise claimed 10 times a second for nothing)
    if (draining === 0 && asked < room && batch.length === asked)
      retryLater(charged ? 100 : RAMP_DOUBLE_MS / 10);
    if (batch.length === 0) return { claimed: 0, more: false };
    ramp.started += batch.length;
    lastStart = now;
    // the webhooks and the bodies (once however many of the batch's deliveries share one) at once: on
    // PostgreSQL two connections, one round trip of the wait between a commit and its delivery instead of two
    const [hooks, bodies] = await Promise.all([
      sendingWebhooks(db.kysely, [...new Set(batch.map((d) => d.webhook_id))]),
      payloadBodies(
        db.kysely,
        batch.map((d) => d.payload_id),
      ),
    ]);
    let cancelled = false;
    const excess: number[] = [];
    for (const d of batch) {
      const hook = hooks.get(d.webhook_id);
      const body = bodies.get(d.payload_id);
      // no body: the webhook was deleted (with its deliveries) since the claim
      if (!hook?.may_send || body === undefined) {
        results.push({ kind: 'cancelled', delivery: d });
        cancelsUnwritten++;
        cancelled = true;
      } else if (!mayStart(d.webhook_id)) excess.push(d.id);
      else send(d, hook, body);
    }
    // the next claim waits for this write (above); scheduled before anything here can fail, or nothing would
    if (cancelled) scheduleWrite();
    // slow receivers must not hold every slot: what they cannot take now goes back for later claims
    if (excess.length > 0) await writeStatements(db, (w) => releaseClaims(w, excess));
    claimSize =
      excess.length > 0 ? Math.max(8, batch.length - excess.length) : Math.min(CLAIM_BATCH, claimSize * 2);
    // a full batch, or one that gave some back, may leave more due deliveries (of other webhooks) behind;
    // one cut short while busy is continued by its timer
    return {
      claimed: batch.length - excess.length,
      more: !cancelled && asked === room && (batch.length === asked || excess.length > 0),
    };
  }

  /** Claims until nothing more is claimable or every slot is busy; concurrent calls coalesce. */
  function pump(): Promise<void> {
    if (pumping) {
      pumpAgain = true;
      return pumping;
    }
    pumping = (async () => {
      try {
        for (let turn = 0; ; turn++) {
          // a turn of the event loop between rounds: on SQLite every statement completes synchronously,
          // so without it a long backlog would be worked off without serving a request (or a signal)
          if (turn > 0) await new Promise((r) => setImmediate(r));
          pumpAgain = false;
          const waited = deliveriesWait;
          if (await expandOnce()) pumpAgain = true;
          if ((await claimOnce()).more) pumpAgain = true;
          // the expansion held back for deliveries that this claim has now run out of: expand next round
          else if (waited && !deliveriesWait && expandDue) pumpAgain = true;
          if (!(pumpAgain && inFlight.size < MAX_IN_FLIGHT && !stopped)) break;
        }
        if (failures > 0) logger.info({ afterFailures: failures }, 'webhook sender resumed');
        failures = 0;
      } catch (err) {
        dbFailure(err, 'webhook sender failed');
      } finally {
        pumping = null;
      }
    })();
    return pumping;
  }

  function dbFailure(err: unknown, message: string): void {
    failures++;
    if (classifyDatabaseError(err)?.kind !== 'unavailable') logger.error({ err }, message);
    else if (failures === 1) logger.warn('webhook sender paused: the database is unavailable');
  }

  /**
   * Writes finished results in one transaction, then claims again (their successors are free now). Results
   * that finish while a write runs go in the next one. If the write fails the claims simply expire and
   * the deliveries are sent again (at least once).
   */
  function scheduleWrite(): void {
    if (writing) {
      writeQueued = true;
      return;
    }
    writing = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      try {
        do {
          writeQueued = false;
          const batch = results;
          results = [];
          if (batch.length === 0) break;
          try {
            // SQLite: in the group commit; one that switches webhooks off commits before the next unit
            const { switchedOff, authVersion } = await inWriteTransaction(
              db,
              (trx) =>
                recordOutcomes(
                  trx,
                  {
                    logger,
                    mailFrom: deps.mailFrom,
                    onMailQueued: () => setImmediate(deps.mailKick),
                    ...(deps.webhooksChanged && { announceSwitchedOff: deps.webhooksChanged.announce }),
                  },
                  batch,
                  clock.now(),
                ),
              (written) => written.switchedOff > 0,
            );
            if (switchedOff > 0) deps.webhooksChanged?.clear(authVersion);
          } catch (err) {
            // an overloaded database (no free connection within its timeout) must not make the receivers
            // get everything twice: results are written later while this sender's claims still hold;
            // only those whose claims lapse meanwhile are sent again (by whichever sender claims them)
            const now = clock.now();
            const keep = stopped
              ? []
              : batch.filter((r) => (r.delivery.claimed_until ?? 0) - CLAIM_MARGIN_MS > now);
            dbFailure(
              err,
              keep.length > 0
                ? 'webhook results could not be written; trying again'
                : 'webhook results could not be written; the deliveries will be sent again',
            );
            if (keep.length > 0) {
              results = keep.concat(results);
              writeRetry ??= setTimeout(() => {
                writeRetry = undefined;
                scheduleWrite();
              }, WRITE_RETRY_MS);
              break;
            }
          } finally {
            // those written, and those given up on (their claims lapse), no longer hold claims back
            cancelsUnwritten = results.reduce((n, r) => n + (r.kind === 'cancelled' ? 1 : 0), 0);
          }
        } while (writeQueued || results.length > 0);
      } finally {
        writing = null;
      }
      if (!stopped) void pump();
    });
  }

  /** Resolves once nothing is claimed, in flight or waiting to be written. */
  async function settle(): Promise<void> {
    while (pumping || inFlight.size > 0 || writing || results.length > 0) {
      await pumping;
      await Promise.all([...inFlight]);
      if (results.length > 0 && !writing) {
        // results that failed to write wait for their retry (a database that is down stays down a while)
        if (writeRetry) await new Promise((r) => setTimeout(r, WRITE_RETRY_MS));
        else scheduleWrite();
      }
      await writing;
    }
  }

  async function drain(): Promise<number> {
    const before = attempts;
    draining++;
    try {
      for (;;) {
        const start = attempts;
        expandDue = true;
        await pump();
        await settle();
        // the last write may have freed successors that the pump it started claimed already
        if (attempts === start && (!expandDue || stopped)) return attempts - before;
      }
    } finally {
      draining--;
    }
  }

  async function housekeep(): Promise<number> {
    const before = clock.now() - retentionMs;
    let total = 0;
    for (;;) {
      const n = await deleteFinishedDeliveries(db.kysely, before, RETENTION_BATCH);
      total += n;
      if (n < RETENTION_BATCH || stopped) break;
      // let requests and deliveries through between batches
      await new Promise((r) => setImmediate(r));
    }
    if (total > 0) logger.info({ deleted: total }, 'webhook deliveries past retention deleted');
    return total;
  }

  const housekeepSafely = () =>
    void housekeep().catch((err: unknown) => dbFailure(err, 'webhook retention failed'));

  return {
    stats,
    kick: (eventCommitted = false) => {
      expandDue = true;
      if (eventCommitted) eventWaits = true;
      if (deps.auto === false || stopped) return;
      // While requests saturate the process and a pump is already timed (at most ~100 ms away: the next busy
      // expansion, or the busy rate's next tokens), that pump does what this one would: a pump now would find
      // the expansion not due and no tokens, at ~4 µs of a commit's time, every commit of a flood.
      if (busyRetry !== undefined && draining === 0 && deps.busy?.()) return;
      void pump();
    },
    drain,
    housekeep,
    start: (intervalMs = 1000) => {
      timers = [
        setInterval(() => {
          expandDue = true;
          void pump();
        }, intervalMs),
        setInterval(housekeepSafely, HOUSEKEEPING_MS),
        setTimeout(housekeepSafely, Math.min(60_000, intervalMs * 10)),
      ];
      for (const t of timers) t.unref();
    },
    stop: async () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      clearTimeout(busyRetry);
      // results not yet written get one more try; what still fails is sent again after the claims lapse
      clearTimeout(writeRetry);
      writeRetry = undefined;
      await settle();
      http.close();
    },
  };
}
