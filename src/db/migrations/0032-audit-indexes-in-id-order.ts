import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The audit log's filters (action, actor, target) read newest first, by id, a page at a time; their indexes
 * (0001) ended in `at`, so the id order had to be sorted. SQLite (Rapport never analyzes it) then read and
 * sorted every entry that matched: among 200,000 entries a page of the commonest action's entries took 78
 * ms, one actor's 25 ms, and each page of an export did it again. Ending the indexes in the id gives each
 * filter its entries in the page's order: the same pages read ~0.2 ms. PostgreSQL, which plans by
 * statistics, mostly walked the primary key backwards and did not suffer, but takes the same indexes. The
 * time index stays, for a time range alone. Upgrading rebuilds the three indexes once.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  for (const name of ['audit_log_action_idx', 'audit_log_actor_idx', 'audit_log_target_idx'])
    await db.schema.dropIndex(name).execute();
  await db.schema.createIndex('audit_log_action_idx').on('audit_log').columns(['action', 'id']).execute();
  await db.schema
    .createIndex('audit_log_actor_idx')
    .on('audit_log')
    .columns(['actor_user_id', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_log_target_idx')
    .on('audit_log')
    .columns(['target_type', 'target_id', 'id'])
    .execute();
}
