import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * A webhook's failed and cancelled messages, by webhook and id: what "recover every failed message since a
 * time" and a page of one of those statuses read. Both went through `(webhook_id, id)` (0034) and read every
 * message of the webhook to find the few that failed: with 1,000,000 messages a recover took ~200 ms and a
 * page of cancelled messages (none) ~320 ms, on SQLite inside the event loop, so every other request waited
 * as long (`docs/performance.md`, stop 67). Only failed and cancelled rows have entries: a delivery that
 * succeeds, which is nearly every one, never writes to this index.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_failed_idx')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'id'])
    .where(sql.ref('status'), 'in', ['failed', 'cancelled'])
    .execute();
}
