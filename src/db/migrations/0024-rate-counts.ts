import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * Counters per scope, key and second: a rate limit reads at most the window's seconds (61 rows for a
 * minute) however many calls it counts. `getchallenge` calls per address move here from one
 * `auth_failures` row each, whose count grew with the limit: at 700 calls/s from one address with the limit
 * raised to allow it, counting the last minute's ~40,000 rows took ~200 µs of every call (SQLite).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('rate_counts')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('second', t.timestamp, (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_counts_pk', ['scope', 'key', 'second'])
    .execute();
  // the old notes are read no more; they are at most a minute's worth
  await db.deleteFrom('auth_failures').where('scope', '=', 'ws-challenge-ip').execute();
}
