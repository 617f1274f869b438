import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Indexes for the batched webhook sender (issue 11): partial indexes over pending deliveries only, so the
 * claim query (due rows, and "no earlier pending delivery of the same webhook and record") stays a short
 * range scan however many delivered rows the outbox keeps; and one on `finished_at` for retention. The
 * old (status, next_attempt_at) index goes: every fan-out insert paid for it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_pending_due_idx')
    .on('webhook_deliveries')
    .columns(['next_attempt_at', 'id'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_pending_order_idx')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'record_id', 'id'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  // finished rows only: a new delivery (finished_at null) costs this index nothing
  await db.schema
    .createIndex('webhook_deliveries_finished_idx')
    .on('webhook_deliveries')
    .column('finished_at')
    .where(sql.ref('finished_at'), 'is not', null)
    .execute();
  // superseded by the partial pending index above; one index fewer to write on every delivery insert
  await db.schema.dropIndex('webhook_deliveries_due_idx').execute();
}
