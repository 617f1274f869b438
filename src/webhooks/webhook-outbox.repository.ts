import { type Kysely, sql, type Transaction } from 'kysely';
import type { DialectName } from '../db/database.js';
import { deferrable, writeDeferred } from '../db/deferred-inserts.js';
import { inWriteTransaction, type Writable } from '../db/group-commit.js';
import { boundLimit } from '../db/literal-limits.js';
import { dialectOf, prepared, preparedStatement } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import {
  deleteMessages,
  insertDeliveriesDeferred,
  insertPayloads,
  type NewDelivery,
  ownerMaySend,
} from './webhook.repository.js';
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookDeliveryTable } from './webhook.table.js';
import { newMessageId } from './webhook-signing.js';

type Q = Kysely<Database> | Transaction<Database>;

/**
 * The PostgreSQL advisory lock held by the one process expanding webhook events: a constant of our own and
 * the schema (advisory locks are per database; Rapports on other schemas of it must not wait for ours)
 */
export const EXPAND_LOCK = 0x5257_4845; // "RWHE"

/** What one expansion did. */
export interface Expansion {
  /** events turned into deliveries (and deleted) */
  events: number;
  /** deliveries those events listed (a webhook deleted meanwhile gets none, but counts here) */
  listed: number;
  /** more events may wait: the read came back full, or `maxDeliveries` stopped it before its end */
  more: boolean;
}

/** Whether any webhook event waits (its id), compiled once: the sender asks at every kick. */
const firstEvent = prepared((db) => db.selectFrom('webhook_events').select('id').orderBy('id').limit(1));

/**
 * Turns the `limit` oldest webhook events into deliveries — one per listed webhook that still exists, due at
 * once, with a fresh message id — and deletes them, in one transaction; answers what it took, or null when
 * another process is expanding (PostgreSQL). Per-record order survives because the events of one record are
 * written in commit order (each write holds the record's row until it commits), one process at a time
 * expands, and it inserts in event order: a later event's deliveries always get higher ids.
 */
export async function expandWebhookEvents(
  target: Writable & { dialect: DialectName },
  limit: number,
  /** stop after the event that reaches this many deliveries (the first event always goes) */
  maxDeliveries = Number.POSITIVE_INFINITY,
  /** false when an event is known to wait (this process just committed one): no probe first */
  probe = true,
): Promise<Expansion | null> {
  const { kysely: db, dialect } = target;
  const none: Expansion = { events: 0, listed: 0, more: false };
  // the common answer, nothing waiting, costs one read and no transaction. By the primary key: on PostgreSQL
  // a scan of the table walked every row version the expansions deleted since the last vacuum (3.7 ms a
  // call under a webhooks flood, 16 ms once, in pg_stat_statements)
  if (probe && (await firstEvent(db)).rows.length === 0) return none;
  // SQLite: in the group commit, so expanding does not split the batches of the writes that queue meanwhile
  return inWriteTransaction(target, async (trx) => {
    if (dialect === 'postgres') {
      // the lock before the read, in a statement of its own: two processes must never read the same events.
      // One statement taking the lock and reading would read with a snapshot taken before the lock: a
      // process that got the lock as another committed its expansion would read the events that one had
      // just deleted, and deliver them again
      const got = await sql<{ ok: boolean }>`
        select pg_try_advisory_xact_lock(${sql.lit(EXPAND_LOCK)}, hashtext(current_schema())) as ok
      `.execute(trx);
      if (!got.rows[0]?.ok) return null;
    }
    // every event lists at least one webhook: no more events than deliveries allowed are read (while
    // requests saturate the process that is a handful; reading 200 rows of ~1 KB bodies to expand one event
    // cost more than the expansion)
    const readLimit = Math.min(limit, maxDeliveries);
    const read = await trx
      .selectFrom('webhook_events')
      .selectAll()
      .orderBy('id')
      .limit(boundLimit(readLimit))
      .execute();
    if (read.length === 0) return none;
    const listed: number[][] = [];
    let count = 0;
    for (const e of read) {
      if (count >= maxDeliveries) break;
      const ids = e.webhook_ids.split(',').map(Number);
      listed.push(ids);
      count += ids.length;
    }
    const events = read.slice(0, listed.length);
    const wanted = [...new Set(listed.flat())];
    // a webhook deleted since the event committed gets nothing (its deliveries went with it)
    const existing = new Set<number>();
    for (let i = 0; i < wanted.length; i += 500)
      for (const r of await trx
        .selectFrom('webhooks')
        .select('id')
        .where('id', 'in', wanted.slice(i, i + 500))
        .execute())
        existing.add(r.id);
    // one body per event, however many webhooks it goes to
    const sent = events
      .map((e, i) => ({ e, to: listed[i]!.filter((id) => existing.has(id)) }))
      .filter((s) => s.to.length > 0);
    const payloadIds = await insertPayloads(
      trx,
      sent.map(({ e }) => ({ body: e.payload, created_at: e.created_at })),
    );
    const rows: NewDelivery[] = [];
    sent.forEach(({ e, to }, i) => {
      for (const webhookId of to)
        rows.push({
          webhook_id: webhookId,
          msg_id: newMessageId(),
          event_type: e.event_type,
          record_id: e.record_id,
          payload_id: payloadIds[i]!,
          status: 'pending',
          next_attempt_at: e.created_at,
          created_at: e.created_at,
        });
    });
    // nothing reads the new ids: on PostgreSQL the insert goes with the delete and the COMMIT, in one write
    await insertDeliveriesDeferred(trx, rows);
    // by id, not by range: an event that commits meanwhile with an id inside the range is not taken yet
    const ids = events.map((e) => e.id);
    for (let i = 0; i < ids.length; i += 500)
      await writeDeferred(trx, trx.deleteFrom('webhook_events').where('id', 'in', ids.slice(i, i + 500)));
    return {
      events: events.length,
      listed: count,
      more: read.length === readLimit || events.length < read.length,
    };
  });
}

/**
 * Claims up to `limit` due deliveries for this sender until `now + claimMs`, in one statement. A delivery
 * waits while an earlier one of the same webhook and record is still pending (claimed or not), so per
 * record only the oldest is ever in flight. On PostgreSQL replicas skip each other's locked rows instead of
 * waiting, so no delivery is claimed twice; SQLite has one writer.
 */
export async function claimDueDeliveries(
  db: Kysely<Database>,
  dialect: DialectName,
  now: number,
  claimMs: number,
  limit: number,
  /** webhooks that already have as many requests in flight as they may */
  skipWebhooks: readonly number[] = [],
): Promise<WebhookDeliveryRow[]> {
  const rows =
    skipWebhooks.length === 0
      ? (await claim(db, now, now + claimMs, limit)).rows
      : await claimQuery(db, dialect, now, now, now + claimMs, limit, skipWebhooks).execute();
  return rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.id - b.id);
}

/**
 * The common claim, built and compiled once per database: building it costs more than running it. On SQLite
 * every claim runs in the group commit's transaction, a new Kysely object per batch: a cache keyed by that
 * object (as this was until stop 60) compiled the claim again every time. The statement itself is exported for
 * the test of its plan.
 */
export const claimStatement = preparedStatement((db, now: number, until: number, limit: number) =>
  claimQuery(db, dialectOf(db), now, now, until, limit, []),
);
const claim = (db: Kysely<Database>, now: number, until: number, limit: number) =>
  db.executeQuery(claimStatement(db, now, until, limit).compile());

function claimQuery(
  db: Kysely<Database>,
  dialect: DialectName,
  now1: unknown,
  now2: unknown,
  until: unknown,
  limit: unknown,
  skipWebhooks: readonly number[],
) {
  const due = db
    .selectFrom('webhook_deliveries as d')
    .select('d.id')
    .where('d.status', '=', 'pending')
    .$if(skipWebhooks.length > 0, (q) => q.where('d.webhook_id', 'not in', [...skipWebhooks]))
    .where('d.next_attempt_at', '<=', now1 as number)
    .where((eb) => eb.or([eb('d.claimed_until', 'is', null), eb('d.claimed_until', '<', now2 as number)]))
    .where((eb) =>
      eb.or([
        eb('d.record_id', 'is', null),
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_deliveries as e')
              .select(sql`1`.as('one'))
              .whereRef('e.webhook_id', '=', 'd.webhook_id')
              .whereRef('e.record_id', '=', 'd.record_id')
              .where('e.status', '=', 'pending')
              .whereRef('e.id', '<', 'd.id'),
          ),
        ),
      ]),
    )
    .orderBy('d.next_attempt_at')
    .orderBy('d.id')
    .limit(limit as number)
    .$if(dialect === 'postgres', (q) => q.forUpdate().skipLocked());
  return db
    .updateTable('webhook_deliveries')
    .set({ claimed_until: until as number, attempts: sql`attempts + 1` })
    .where('id', 'in', due)
    .returningAll();
}

/** Gives claimed deliveries back untried (this sender has no room for them): claimable again at once. */
export async function releaseClaims(db: Q, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('webhook_deliveries')
    .set({ claimed_until: null, attempts: sql`attempts - 1` })
    .where('id', 'in', [...ids])
    .where('status', '=', 'pending')
    .execute();
}

export interface SendingWebhook {
  id: number;
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: number | null;
  /** on, and its owner may send (active, API access on, a key issued) */
  may_send: boolean;
}

/** Compiled once per number of webhooks (a claimed batch's are at most CLAIM_BATCH). */
const webhooksToSend = prepared((db, ...ids: number[]) =>
  db
    .selectFrom('webhooks')
    .select(['id', 'url', 'secret_sealed', 'previous_secret_sealed', 'previous_secret_expires_at'])
    .select((eb) =>
      eb
        .case()
        .when(eb.and([eb('enabled', '=', 1), ownerMaySend(eb)]))
        .then(1)
        .else(0)
        .end()
        .as('may'),
    )
    .where('id', 'in', ids),
);

/** Where and with which secrets the given webhooks send, and whether they may send now: one query a batch. */
export async function sendingWebhooks(db: Q, ids: readonly number[]): Promise<Map<number, SendingWebhook>> {
  if (ids.length === 0) return new Map();
  const { rows } = await webhooksToSend(db, ...ids);
  return new Map(rows.map(({ may, ...r }) => [r.id, { ...r, may_send: Number(may) === 1 }]));
}

export async function insertAttempts(db: Q, rows: readonly Omit<WebhookAttemptRow, 'id'>[]): Promise<void> {
  // a statement binds at most 32,766 (SQLite) or 65,535 (PostgreSQL) parameters; attempts have 8 columns
  // in a PostgreSQL transaction the writes below go with its next statement (nothing reads their results)
  for (let i = 0; i < rows.length; i += 500)
    await db.executeQuery(
      deferrable(
        db
          .insertInto('webhook_attempts')
          .values(rows.slice(i, i + 500))
          .compile(),
        'webhook_attempts',
      ),
    );
}

export type DeliveryPatch = Pick<
  WebhookDeliveryTable,
  'status' | 'next_attempt_at' | 'finished_at' | 'last_status_code' | 'last_error'
>;

/** Finishes (or reschedules) one claimed delivery and releases the claim. */
export async function finishDelivery(db: Q, id: number, patch: DeliveryPatch): Promise<void> {
  await writeDeferred(
    db,
    db
      .updateTable('webhook_deliveries')
      .set({ ...patch, claimed_until: null })
      .where('id', '=', id),
  );
}

/** Applies the same patch to many claimed deliveries and releases their claims, 500 ids a statement. */
export async function finishDeliveries(
  db: Q,
  ids: readonly number[],
  patch: Omit<DeliveryPatch, 'next_attempt_at'>,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 500)
    await writeDeferred(
      db,
      db
        .updateTable('webhook_deliveries')
        .set({ ...patch, claimed_until: null })
        .where('id', 'in', ids.slice(i, i + 500)),
    );
}

/**
 * Retention: deletes up to `limit` finished deliveries (delivered, failed, cancelled) that finished before
 * `before`, with their attempts and the bodies no other delivery uses; answers how many deliveries went.
 * Callers repeat until it answers less.
 */
export async function deleteFinishedDeliveries(db: Q, before: number, limit: number): Promise<number> {
  const old = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('finished_at', 'is not', null)
    .where('finished_at', '<', before)
    .where('status', '!=', 'pending')
    .orderBy('finished_at')
    .limit(limit)
    .execute();
  const ids = old.map((r) => r.id);
  if (ids.length === 0) return 0;
  await deleteMessages(db, ids);
  return ids.length;
}
