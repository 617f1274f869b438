import { type Kysely, sql } from 'kysely';

/**
 * The live records of each owner, in id order: `crm_entities(module, owner_id, id) where deleted_at is
 * null`, in place of `(module, owner_id, deleted_at)`. A page of an "own and subordinates" scope reads a
 * page per owner (`selectRecords`, `ownedBy`); PostgreSQL reads one in id order from this index and stops
 * at the page's end, where the old index gave it the owner's rows to sort, all of them (it does not take
 * `deleted_at is null` as an equality that keeps the order). SQLite did get the order from the old index,
 * which ends in the rowid; the partial index serves it as well, and counts of live records by owner read
 * it alone on both. Records of an owner with deleted ones included go by `crm_entities_owner_idx`.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('crm_entities_live_owner_idx')
    .on('crm_entities')
    .columns(['module', 'owner_id', 'id'])
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  await db.schema.dropIndex('crm_entities_module_owner_idx').execute();
}
