import { type ExpressionBuilder, type Kysely, sql, type Transaction } from 'kysely';
import type { DialectName } from '../db/database.js';
import { prepared } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import type {
  WebhookAttemptRow,
  WebhookDeliveryRow,
  WebhookDeliveryTable,
  WebhookRow,
  WebhookTable,
} from './webhook.table.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Owners whose webhooks may send: active, not deleted, API access on and a key issued. */
function ownerMaySend(eb: ExpressionBuilder<Database, 'webhooks'>) {
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

export async function deleteWebhookRow(db: Q, id: number): Promise<void> {
  await db.deleteFrom('webhook_attempts').where('webhook_id', '=', id).execute();
  await db.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
  await db.deleteFrom('webhooks').where('id', '=', id).execute();
}

/** Webhooks that would send an event of `module` now: on, with an owner who may send. */
/** Runs on every record write: prepared (see `prepared`), with one argument per module. */
const subscribedTo = prepared((db, ...modules: string[]) =>
  db
    .selectFrom('webhooks')
    .selectAll()
    .where('enabled', '=', 1)
    .where((eb) => eb.or([eb('module', '=', '*'), eb('module', 'in', modules)]))
    .where((eb) => ownerMaySend(eb))
    .orderBy('id'),
);

export async function subscribedWebhooks(db: Q, modules: readonly string[]): Promise<WebhookRow[]> {
  if (modules.length === 0) return [];
  return (await subscribedTo(db, ...modules)).rows;
}

/** Whether the webhook may send right now (on, and its owner may send): checked before every attempt. */
export async function webhookMaySend(db: Q, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('webhooks')
    .select('id')
    .where('id', '=', id)
    .where('enabled', '=', 1)
    .where((eb) => ownerMaySend(eb))
    .executeTakeFirst();
  return row !== undefined;
}

export type NewDelivery = Omit<
  WebhookDeliveryTable,
  'id' | 'claimed_until' | 'finished_at' | 'last_status_code' | 'last_error' | 'attempts'
>;

export async function insertDeliveries(db: Q, rows: NewDelivery[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const ids: number[] = [];
  // PostgreSQL binds at most 65,535 parameters per statement; SQLite 32,766
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500).map((r) => ({
      ...r,
      attempts: 0,
      claimed_until: null,
      finished_at: null,
      last_status_code: null,
      last_error: null,
    }));
    const out = await db.insertInto('webhook_deliveries').values(chunk).returning('id').execute();
    ids.push(...out.map((r) => r.id));
  }
  return ids;
}

export interface ClaimedDelivery extends WebhookDeliveryRow {
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: number | null;
}

/**
 * Claims due deliveries for this sender until `now + claimMs`. A delivery waits while an earlier one of the
 * same webhook and record is still pending (per-record order). On PostgreSQL replicas skip each other's
 * locked rows instead of waiting, so no delivery is claimed twice; SQLite has one writer.
 */
export async function claimDueDeliveries(
  db: Kysely<Database>,
  dialect: DialectName,
  now: number,
  claimMs: number,
  limit: number,
): Promise<ClaimedDelivery[]> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('webhook_deliveries as d')
      .select('d.id')
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('d.claimed_until', 'is', null), eb('d.claimed_until', '<', now)]))
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
      .limit(limit)
      .$if(dialect === 'postgres', (q) => q.forUpdate().skipLocked())
      .execute();
    const ids = due.map((r) => r.id);
    if (ids.length === 0) return [];
    await trx
      .updateTable('webhook_deliveries')
      .set({ claimed_until: now + claimMs, attempts: sql`attempts + 1` })
      .where('id', 'in', ids)
      .execute();
    return trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .selectAll('d')
      .select(['w.url', 'w.secret_sealed', 'w.previous_secret_sealed', 'w.previous_secret_expires_at'])
      .where('d.id', 'in', ids)
      .orderBy('d.id')
      .execute();
  });
}

export async function insertAttempt(db: Q, row: Omit<WebhookAttemptRow, 'id'>): Promise<void> {
  await db.insertInto('webhook_attempts').values(row).execute();
}

export async function finishDelivery(
  db: Q,
  id: number,
  patch: Pick<
    WebhookDeliveryTable,
    'status' | 'next_attempt_at' | 'finished_at' | 'last_status_code' | 'last_error'
  >,
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ ...patch, claimed_until: null })
    .where('id', '=', id)
    .execute();
}

export interface DeliveryQuery {
  webhookId: number;
  status?: WebhookDeliveryRow['status'];
  limit: number;
  /** deliveries with ids below this (paging from newest) */
  before?: number;
}

export async function listDeliveries(db: Q, q: DeliveryQuery): Promise<WebhookDeliveryRow[]> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', q.webhookId)
    .$if(q.status !== undefined, (b) => b.where('status', '=', q.status!))
    .$if(q.before !== undefined, (b) => b.where('id', '<', q.before!))
    .orderBy('id', 'desc')
    .limit(q.limit)
    .execute();
}

export async function findDelivery(db: Q, webhookId: number, id: number) {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .where('id', '=', id)
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
