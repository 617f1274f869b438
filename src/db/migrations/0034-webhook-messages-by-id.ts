import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * A webhook's message list (newest first, a page at a time, optionally of one status) is read by the
 * webhook and the id. The index it had, `(webhook_id, record_id, id)` (0011), gave neither that order nor
 * anything else: the claim's per-record check has its own partial index over pending deliveries (0018).
 * SQLite read every message of the webhook and sorted them for each page: 88 ms for a webhook with 100,000
 * messages (the 30 days' retention of one change every 26 s), seconds for the millions a busy integration
 * keeps; PostgreSQL walked the primary key backwards, past every other webhook's messages. Now one index
 * `(webhook_id, id)` in its place: a page reads its own rows, and a delivery still writes as many index
 * entries, each smaller. Upgrading rebuilds the index once.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_order_idx').execute();
  await db.schema
    .createIndex('webhook_deliveries_webhook_idx')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'id'])
    .execute();
}
