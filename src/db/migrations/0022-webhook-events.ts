import type { Kysely } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * The webhook event outbox. A record change used to write one delivery row per subscribed webhook in its own
 * transaction — ten webhooks, ten rows and their index entries on every write, which halved create
 * throughput. Now the write adds one row per event and webhook owner (the body as that owner sees it, and
 * the ids of their webhooks subscribed at commit); the sender turns these rows into deliveries after commit,
 * in batches, in id order. No secondary index: the only reader takes the lowest ids and deletes them.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await withId(dialect, db.schema.createTable('webhook_events'))
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('webhook_ids', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('record_id', 'integer')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
}
