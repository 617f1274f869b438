import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The unique index on `webhook_deliveries.msg_id` goes. No query reads it (a message is found by its row
 * id), and what it enforced — no two messages with one id — 128 random bits already guarantee. Its cost was
 * not small: random keys put each of a write's deliveries on a different page of the index, so a record
 * created with 10 subscribed webhooks wrote ~10 more pages (a third of the fan-out's time on SQLite).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_msg_idx').execute();
}
