import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * One row: a keyed digest of a fixed text under the master key, so a process started with another
 * RAPPORT_SECRET_KEY refuses to start instead of failing on every access key later.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('master_key_check')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('check_value', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
}
