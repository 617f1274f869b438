import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The index on `domain_events.created_at` goes. Only the hourly retention prune read it, and that now finds
 * its cut-off by id (ids ascend with time). Every record write emits an event, and on SQLite each index an
 * append touches is one more 4 KB page written to the WAL at commit: on REST updates (SQLite, 50
 * connections) the commit went from ~280 to ~230 µs without this index.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('domain_events_created_idx').execute();
}
