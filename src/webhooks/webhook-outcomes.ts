import type { Transaction } from 'kysely';
import type { AuditActor } from '../audit/audit.repository.js';
import { recordAudit } from '../audit/audit.repository.js';
import { writeDeferred } from '../db/deferred-inserts.js';
import type { Database } from '../db/schema.js';
import { enqueueMail } from '../mail/mail-queue.repository.js';
import type { Logger } from '../platform/logger.js';
import type { WebhookAttemptRow, WebhookDeliveryRow } from './webhook.table.js';
import type { PostOutcome } from './webhook-http.js';
import {
  type DeliveryPatch,
  finishDeliveries,
  finishDelivery,
  insertAttempts,
} from './webhook-outbox.repository.js';

/** Svix's schedule: the delay before attempt n+1 after attempt n failed (attempt 1 is immediate). */
export const RETRY_SCHEDULE_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;
/** a webhook failing without a single success for this long is switched off and its owner emailed */
export const DISABLE_AFTER_MS = 5 * 24 * 3_600_000;
const MAX_RETRY_AFTER_MS = 36_000_000;

export const SYSTEM_ACTOR: AuditActor = {
  userId: null,
  username: 'system',
  ip: null,
  userAgent: 'rapport-webhooks',
  requestId: null,
};

/** The delay before the next attempt after `attempts` failed ones, ±20 % jitter; null when out of attempts. */
export function retryDelay(attempts: number, random: () => number = Math.random): number | null {
  const base = RETRY_SCHEDULE_MS[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** One claimed delivery's result, waiting to be written: an HTTP attempt, or not sent because it may not. */
export type SendResult =
  | { kind: 'attempt'; delivery: WebhookDeliveryRow; at: number; outcome: PostOutcome; random: number }
  | { kind: 'cancelled'; delivery: WebhookDeliveryRow };

interface Judged {
  result: Extract<SendResult, { kind: 'attempt' }>;
  attempt: Omit<WebhookAttemptRow, 'id'>;
  ok: boolean;
  gone: boolean;
  patch: DeliveryPatch;
}

/** An attempt succeeded when the receiver answered 2xx (3xx is a failure: redirects are not followed). */
export const succeeded = (code: number | null): boolean => code !== null && code >= 200 && code < 300;

/** What an attempt means: success, a retry (Svix schedule, Retry-After honoured) or the end of the road. */
function judge(r: Extract<SendResult, { kind: 'attempt' }>): Judged {
  const { delivery: d, outcome: o, at } = r;
  const code = o.statusCode;
  const ok = succeeded(code);
  const gone = code === 410;
  let next: number | null = null;
  if (!ok && !gone) {
    const delay = retryDelay(d.attempts, () => r.random);
    if (delay !== null) {
      const asked = (code === 429 || code === 503) && o.retryAfterMs !== null ? o.retryAfterMs : null;
      next = at + (asked !== null ? Math.min(Math.max(asked, delay), MAX_RETRY_AFTER_MS) : delay);
    }
  }
  const error =
    o.error ??
    (ok
      ? null
      : code !== null && code >= 300 && code < 400
        ? `HTTP ${code} (redirects are not followed)`
        : `HTTP ${code}`);
  return {
    result: r,
    ok,
    gone,
    attempt: {
      delivery_id: d.id,
      webhook_id: d.webhook_id,
      at,
      status_code: code,
      latency_ms: o.latencyMs,
      error,
      response_body: o.body,
      next_attempt_at: next,
    },
    patch: {
      status: ok ? 'delivered' : next !== null ? 'pending' : 'failed',
      next_attempt_at: next ?? d.next_attempt_at,
      finished_at: next !== null ? null : at,
      last_status_code: code,
      last_error: error,
    },
  };
}

export interface OutcomeDeps {
  logger: Logger;
  mailFrom: string;
  /** runs after the commit when an auto-disable emailed an owner */
  onMailQueued: () => void;
  /**
   * an auto-disable switched webhooks off: tell the other replicas, in the transaction (once, at its end);
   * answers the auth version it moved to
   */
  announceSwitchedOff?: (trx: Transaction<Database>) => Promise<number | undefined>;
}

/**
 * Writes a batch of send results in the caller's transaction: every attempt in one insert, successes in one
 * update per status code, each webhook's run of failures once. Only results in completion order matter for
 * a webhook's state: the last outcome decides whether it is failing.
 */
export async function recordOutcomes(
  trx: Transaction<Database>,
  deps: OutcomeDeps,
  results: readonly SendResult[],
  now: number,
): Promise<{ switchedOff: number; authVersion: number | undefined }> {
  const cancelled = results.filter((r) => r.kind === 'cancelled').map((r) => r.delivery.id);
  await finishDeliveries(trx, cancelled, {
    status: 'cancelled',
    finished_at: now,
    last_status_code: null,
    last_error: 'not sent: the webhook is off, or its owner has no API access',
  });
  const judged = results.flatMap((r) => (r.kind === 'attempt' ? [judge(r)] : []));
  await insertAttempts(
    trx,
    judged.map((j) => j.attempt),
  );
  const delivered = new Map<number, number[]>();
  for (const j of judged) {
    if (j.ok) {
      const code = j.attempt.status_code!;
      delivered.set(code, [...(delivered.get(code) ?? []), j.attempt.delivery_id]);
    } else await finishDelivery(trx, j.attempt.delivery_id, j.patch);
  }
  for (const [code, ids] of delivered)
    await finishDeliveries(trx, ids, {
      status: 'delivered',
      finished_at: now,
      last_status_code: code,
      last_error: null,
    });
  const byHook = new Map<number, Judged[]>();
  for (const j of judged) byHook.set(j.attempt.webhook_id, [...(byHook.get(j.attempt.webhook_id) ?? []), j]);
  const healthy: number[] = [];
  let switchedOff = 0;
  for (const [webhookId, list] of byHook) {
    if (list.at(-1)!.ok) healthy.push(webhookId);
    else if (await updateFailing(trx, deps, webhookId, list, now)) switchedOff++;
  }
  // webhooks whose latest attempt succeeded are not failing: one statement for all of them
  if (healthy.length > 0)
    await writeDeferred(
      trx,
      trx
        .updateTable('webhooks')
        .set({ failing_since: null })
        .where('id', 'in', healthy)
        .where('failing_since', 'is not', null),
    );
  // last: telling the others bumps the one auth-version row, which stays locked until commit
  const authVersion = switchedOff > 0 ? await deps.announceSwitchedOff?.(trx) : undefined;
  return { switchedOff, authVersion };
}

/**
 * For a webhook whose latest attempt failed: keeps `failing_since` (first failure of the current run) and
 * switches the webhook off on 410 or after 5 days. Answers whether it switched it off.
 */
async function updateFailing(
  trx: Transaction<Database>,
  deps: OutcomeDeps,
  webhookId: number,
  list: readonly Judged[],
  now: number,
): Promise<boolean> {
  const lastOk = list.findLastIndex((j) => j.ok);
  const failures = list.slice(lastOk + 1);
  const hook = await trx
    .selectFrom('webhooks as w')
    .innerJoin('users as u', 'u.id', 'w.user_id')
    .select(['w.id', 'w.url', 'w.enabled', 'w.failing_since', 'u.email'])
    .where('w.id', '=', webhookId)
    .executeTakeFirst();
  if (!hook) return false;
  const firstFailure = failures[0]!.result.at;
  const since = lastOk >= 0 ? firstFailure : (hook.failing_since ?? firstFailure);
  if (hook.failing_since !== since)
    await writeDeferred(
      trx,
      trx.updateTable('webhooks').set({ failing_since: since }).where('id', '=', hook.id),
    );
  const reason = failures.some((j) => j.gone)
    ? 'the receiver answered 410 Gone'
    : now - since >= DISABLE_AFTER_MS
      ? 'every delivery failed for 5 days'
      : null;
  if (!reason || !hook.enabled) return false;
  // two replicas may fail deliveries of one webhook at once: only the one that switches it off tells anyone
  const switched = await trx
    .updateTable('webhooks')
    .set({ enabled: 0, disabled_reason: reason, updated_at: now })
    .where('id', '=', hook.id)
    .where('enabled', '=', 1)
    .executeTakeFirst();
  if (Number(switched.numUpdatedRows) === 0) return false;
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
  deps.logger.warn({ webhookId: hook.id }, `webhook switched off: ${reason}`);
  deps.onMailQueued();
  return true;
}
