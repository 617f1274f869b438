import { type CompiledQuery, type Kysely, sql, type Transaction } from 'kysely';
import type { DialectName } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { ownerMaySend } from './webhook.repository.js';
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookDeliveryTable } from './webhook.table.js';

type Q = Kysely<Database> | Transaction<Database>;

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
  let rows: WebhookDeliveryRow[];
  if (skipWebhooks.length === 0) {
    // the common case runs SQL compiled once per database: building this query costs more than running it
    const { query, at } = compiledClaim(db, dialect);
    const parameters = [...query.parameters];
    parameters[at.now1] = now;
    parameters[at.now2] = now;
    parameters[at.until] = now + claimMs;
    parameters[at.limit] = limit;
    rows = (await db.executeQuery<WebhookDeliveryRow>({ ...query, parameters })).rows;
  } else rows = await claimQuery(db, dialect, now, now, now + claimMs, limit, skipWebhooks).execute();
  return rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.id - b.id);
}

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

const claimQueries = new WeakMap<
  object,
  { query: CompiledQuery; at: { now1: number; now2: number; until: number; limit: number } }
>();

function compiledClaim(db: Kysely<Database>, dialect: DialectName) {
  let entry = claimQueries.get(db);
  if (!entry) {
    const m = { now1: {}, now2: {}, until: {}, limit: {} };
    const query = claimQuery(db, dialect, m.now1, m.now2, m.until, m.limit, []).compile();
    const at = {
      now1: query.parameters.indexOf(m.now1),
      now2: query.parameters.indexOf(m.now2),
      until: query.parameters.indexOf(m.until),
      limit: query.parameters.indexOf(m.limit),
    };
    if (Object.values(at).some((i) => i < 0)) throw new Error('webhook claim query lost a parameter');
    entry = { query, at };
    claimQueries.set(db, entry);
  }
  return entry;
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

/** Where and with which secrets the given webhooks send, and whether they may send now: one query a batch. */
export async function sendingWebhooks(db: Q, ids: readonly number[]): Promise<Map<number, SendingWebhook>> {
  if (ids.length === 0) return new Map();
  const rows = await db
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
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map(({ may, ...r }) => [r.id, { ...r, may_send: Number(may) === 1 }]));
}

export async function insertAttempts(db: Q, rows: readonly Omit<WebhookAttemptRow, 'id'>[]): Promise<void> {
  // a statement binds at most 32,766 (SQLite) or 65,535 (PostgreSQL) parameters; attempts have 8 columns
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('webhook_attempts')
      .values(rows.slice(i, i + 500))
      .execute();
}

export type DeliveryPatch = Pick<
  WebhookDeliveryTable,
  'status' | 'next_attempt_at' | 'finished_at' | 'last_status_code' | 'last_error'
>;

/** Finishes (or reschedules) one claimed delivery and releases the claim. */
export async function finishDelivery(db: Q, id: number, patch: DeliveryPatch): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ ...patch, claimed_until: null })
    .where('id', '=', id)
    .execute();
}

/** Applies the same patch to many claimed deliveries and releases their claims, 500 ids a statement. */
export async function finishDeliveries(
  db: Q,
  ids: readonly number[],
  patch: Omit<DeliveryPatch, 'next_attempt_at'>,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 500)
    await db
      .updateTable('webhook_deliveries')
      .set({ ...patch, claimed_until: null })
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
}

/**
 * Retention: deletes up to `limit` finished deliveries (delivered, failed, cancelled) that finished before
 * `before`, with their attempts; answers how many deliveries went. Callers repeat until it answers less.
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
  await db.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).execute();
  await db.deleteFrom('webhook_deliveries').where('id', 'in', ids).execute();
  return ids.length;
}
