import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The claim's check "no earlier pending delivery of this webhook and record" must reach the rows through the
 * pending order index `(webhook_id, record_id, id)`. PostgreSQL judged both pending indexes (0018) by the share
 * of pending rows in the table's statistics, and those are taken while nothing is pending (a table keeping every
 * finished delivery is analyzed when its changes reach its size, 0030). Then it often answered the check from the
 * pending *due* index, `id < d.id` its only condition, walking every entry (dead ones included) below the row:
 * 0.23–0.98 ms a row, a claim of 128 up to 140 ms (`docs/performance.md`, stop 66). The due index now also
 * requires `next_attempt_at is not null` (always true: the column is NOT NULL). The claim's own
 * `next_attempt_at <= ?` implies that, the check does not mention the column, so the check can no longer use
 * the due index whatever the statistics say. SQLite proves the same predicate from the same comparison.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_pending_due_idx').execute();
  await db.schema
    .createIndex('webhook_deliveries_pending_due_idx')
    .on('webhook_deliveries')
    .columns(['next_attempt_at', 'id'])
    .where((eb) =>
      eb.and([eb(sql.ref('status'), '=', 'pending'), eb(sql.ref('next_attempt_at'), 'is not', null)]),
    )
    .execute();
}
