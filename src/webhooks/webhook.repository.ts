import { type ExpressionBuilder, type Kysely, sql, type Transaction } from 'kysely';
import { deferrable } from '../db/deferred-inserts.js';
import { prepared, preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import type {
  WebhookAttemptRow,
  WebhookDeliveryRow,
  WebhookDeliveryTable,
  WebhookEventTable,
  WebhookPayloadTable,
  WebhookRow,
  WebhookSubscription,
  WebhookTable,
} from './webhook.table.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Owners whose webhooks may send: active, not deleted, API access on and a key issued. */
export function ownerMaySend(eb: ExpressionBuilder<Database, 'webhooks'>) {
  return eb.exists(
    eb
      .selectFrom('users as u')
      .innerJoin('access_keys as k', 'k.user_id', 'u.id')
      .select(sql`1`.as('one'))
      .whereRef('u.id', '=', 'webhooks.user_id')
      .where('u.status', '=', 'Active')
      .where('u.deleted_at', 'is', null)
      .where('u.api_access', '=', 1),
  );
}

export async function insertWebhook(db: Q, row: Omit<WebhookTable, 'id'>): Promise<number> {
  const r = await db.insertInto('webhooks').values(row).returning('id').executeTakeFirstOrThrow();
  return r.id;
}

export async function findWebhook(db: Q, id: number): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listWebhooks(db: Q, userId: number | null): Promise<WebhookRow[]> {
  return db
    .selectFrom('webhooks')
    .selectAll()
    .$if(userId !== null, (q) => q.where('user_id', '=', userId!))
    .orderBy('id')
    .execute();
}

export async function updateWebhookRow(
  db: Q,
  id: number,
  patch: Partial<Omit<WebhookTable, 'id' | 'user_id'>>,
): Promise<void> {
  await db.updateTable('webhooks').set(patch).where('id', '=', id).execute();
}

/**
 * Up to `limit` of a webhook's messages with ids above `after` (oldest first), with their attempts and the
 * bodies no other message uses; answers the highest id of the range deleted, null when none was left.
 * Callers that must not hold the database long repeat it from that id, a transaction each. Each statement
 * names an id range: with the batch's ids as a subquery, PostgreSQL scanned the whole table for each batch.
 */
export async function deleteWebhookMessages(
  db: Q,
  webhookId: number,
  limit: number,
  after = 0,
): Promise<number | null> {
  const above = db
    .selectFrom('webhook_deliveries')
    .where('webhook_id', '=', webhookId)
    .where('id', '>', after);
  const last =
    (
      await above
        .select('id')
        .orderBy('id')
        .offset(limit - 1)
        .limit(1)
        .executeTakeFirst()
    )?.id ?? (await above.select((eb) => eb.fn.max('id').as('id')).executeTakeFirst())?.id;
  if (last === undefined || last === null) return null;
  await db
    .deleteFrom('webhook_attempts')
    .where('delivery_id', '>', after)
    .where('delivery_id', '<=', last)
    .where('webhook_id', '=', webhookId)
    .execute();
  const gone = await db
    .deleteFrom('webhook_deliveries')
    .where('webhook_id', '=', webhookId)
    .where('id', '>', after)
    .where('id', '<=', last)
    .returning('payload_id')
    .execute();
  await deleteUnusedPayloads(
    db,
    gone.map((d) => d.payload_id),
  );
  return last;
}

/** Deletes a webhook with every message it has left; answers whether it was there. */
export async function deleteWebhookRow(db: Q, id: number): Promise<boolean> {
  for (let after: number | null = 0; after !== null; )
    after = await deleteWebhookMessages(db, id, 1000, after);
  const res = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** A webhook's operations (stored as `created,updated`). */
export function operationsOf(w: Pick<WebhookRow, 'operations'>): string[] {
  return w.operations.split(',').filter((o) => o !== '');
}

/** Every webhook that would send now (on, with an owner who may send), by id: what a record write reads. */
const sendingNow = prepared((db) =>
  db
    .selectFrom('webhooks')
    .select(['id', 'user_id', 'module', 'operations'])
    .where('enabled', '=', 1)
    .where((eb) => ownerMaySend(eb))
    .orderBy('id'),
);

export async function sendingSubscriptions(db: Q): Promise<WebhookSubscription[]> {
  return (await sendingNow(db)).rows.map((w) => ({ ...w, operations: operationsOf(w) }));
}

/** A delivery of a stored body (`webhook_payloads`). */
export type NewDelivery = Omit<
  WebhookDeliveryTable,
  'id' | 'claimed_until' | 'finished_at' | 'last_status_code' | 'last_error' | 'attempts'
>;

/** A delivery with a body of its own (a test event): the body is stored as a payload for it alone. */
export type NewDeliveryWithBody = Omit<NewDelivery, 'payload_id'> & { payload: string };

/** New rows in chunks: PostgreSQL binds at most 65,535 parameters per statement; SQLite 32,766. */
function chunksOf<T>(rows: readonly T[], size = 500): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}

function deliveryRow(r: NewDelivery) {
  return {
    ...r,
    attempts: 0,
    claimed_until: null,
    finished_at: null,
    last_status_code: null,
    last_error: null,
  };
}

/** Stores message bodies; answers their ids in the order given. */
export async function insertPayloads(
  db: Q,
  rows: readonly Omit<WebhookPayloadTable, 'id'>[],
): Promise<number[]> {
  const ids: number[] = [];
  for (const chunk of chunksOf(rows)) {
    const out = await db.insertInto('webhook_payloads').values(chunk).returning('id').execute();
    // a statement draws its ids in the order of its rows; the order RETURNING lists them in is not promised
    ids.push(...out.map((r) => r.id).sort((a, b) => a - b));
  }
  return ids;
}

/** Writes deliveries with bodies of their own; answers their ids in the order given. */
export async function insertDeliveries(db: Q, rows: readonly NewDeliveryWithBody[]): Promise<number[]> {
  const payloadIds = await insertPayloads(
    db,
    rows.map((r) => ({ body: r.payload, created_at: r.created_at })),
  );
  const ids: number[] = [];
  for (const chunk of chunksOf(rows.map(({ payload: _, ...r }, i) => ({ ...r, payload_id: payloadIds[i]! }))))
    for (const r of await db
      .insertInto('webhook_deliveries')
      .values(chunk.map(deliveryRow))
      .returning('id')
      .execute())
      ids.push(r.id);
  return ids.sort((a, b) => a - b);
}

/**
 * Writes deliveries of stored bodies, for a caller that needs no ids back: in a PostgreSQL transaction the
 * inserts wait and go with the transaction's next statement (`deferrable`), in the order given, so ids
 * still ascend in that order.
 */
export async function insertDeliveriesDeferred(db: Q, rows: readonly NewDelivery[]): Promise<void> {
  for (const chunk of chunksOf(rows))
    await db.executeQuery(
      deferrable(
        db.insertInto('webhook_deliveries').values(chunk.map(deliveryRow)).compile(),
        'webhook_deliveries',
      ),
    );
}

/** Compiled once per number of ids (a claimed batch's bodies, at most CLAIM_BATCH) */
const bodiesById = prepared((db, ...ids: number[]) =>
  db.selectFrom('webhook_payloads').select(['id', 'body']).where('id', 'in', ids),
);

/** The bodies with the given ids. */
export async function payloadBodies(db: Q, ids: readonly number[]): Promise<Map<number, string>> {
  const bodies = new Map<number, string>();
  for (const chunk of chunksOf([...new Set(ids)]))
    for (const p of (await bodiesById(db, ...chunk)).rows) bodies.set(p.id, p.body);
  return bodies;
}

/** Deletes the given messages with their attempts and the bodies no other message uses. */
export async function deleteMessages(db: Q, ids: readonly number[]): Promise<void> {
  for (const chunk of chunksOf(ids)) {
    await db.deleteFrom('webhook_attempts').where('delivery_id', 'in', chunk).execute();
    const gone = await db
      .deleteFrom('webhook_deliveries')
      .where('id', 'in', chunk)
      .returning('payload_id')
      .execute();
    await deleteUnusedPayloads(
      db,
      gone.map((d) => d.payload_id),
    );
  }
}

/** Deletes those of the given bodies that no delivery uses any more (after deliveries were deleted). */
async function deleteUnusedPayloads(db: Q, ids: readonly number[]): Promise<void> {
  for (const chunk of chunksOf([...new Set(ids)]))
    await db
      .deleteFrom('webhook_payloads')
      .where('id', 'in', chunk)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_deliveries as d')
              .select(sql`1`.as('one'))
              .whereRef('d.payload_id', '=', 'webhook_payloads.id'),
          ),
        ),
      )
      .execute();
}

export type NewWebhookEvent = Omit<WebhookEventTable, 'id'>;

export const insertWebhookEvents = preparedInsert('webhook_events', [
  'user_id',
  'webhook_ids',
  'event_type',
  'record_id',
  'payload',
  'created_at',
]);

export interface DeliveryQuery {
  webhookId: number;
  status?: WebhookDeliveryRow['status'];
  limit: number;
  /** deliveries with ids below this (paging from newest) */
  before?: number;
}

/**
 * Failed or cancelled, written as `webhook_deliveries_failed_idx`'s predicate is (migration 0035): a planner
 * uses a partial index only for a query whose conditions imply its predicate, and SQLite proves that only
 * from the same term with the same literals (a bound parameter proves nothing).
 */
const failedOrCancelled = sql<boolean>`status in ('failed', 'cancelled')`;

/**
 * A page of a webhook's messages, newest first, read through `(webhook_id, id)` (migration 0034), or its
 * failed or cancelled ones through their own index (0035), which holds nothing else.
 */
export function deliveriesPage(db: Q, q: DeliveryQuery) {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', q.webhookId)
    .$if(q.status !== undefined, (b) => b.where('status', '=', q.status!))
    .$if(q.status === 'failed' || q.status === 'cancelled', (b) => b.where(failedOrCancelled))
    .$if(q.before !== undefined, (b) => b.where('id', '<', q.before!))
    .orderBy('id', 'desc')
    .limit(q.limit);
}

/**
 * A webhook's failed and cancelled messages since `since`, pending again with a fresh retry schedule: read
 * through their own index (0035), not past every message the webhook ever had.
 */
export function requeueFailedSince(db: Q, webhookId: number, since: number, now: number) {
  return db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, claimed_until: null, finished_at: null })
    .where('webhook_id', '=', webhookId)
    .where(failedOrCancelled)
    .where('created_at', '>=', since);
}

export async function listDeliveries(db: Q, q: DeliveryQuery): Promise<WebhookDeliveryRow[]> {
  return deliveriesPage(db, q).execute();
}

/** One delivery of a webhook, with its body. */
export async function findDelivery(db: Q, webhookId: number, id: number) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_payloads as p', 'p.id', 'd.payload_id')
    .selectAll('d')
    .select('p.body as payload')
    .where('d.webhook_id', '=', webhookId)
    .where('d.id', '=', id)
    .executeTakeFirst();
}

export async function listAttempts(db: Q, deliveryId: number): Promise<WebhookAttemptRow[]> {
  return db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('delivery_id', '=', deliveryId)
    .orderBy('id')
    .execute();
}
