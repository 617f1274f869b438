import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Moves every record (deleted ones too, so a restore finds a live owner) from one user to another, in the
 * caller's transaction; used when a user is deleted. Each record's version goes up so open edits see the
 * change. Matches `OwnershipTransfer` in `src/users/ownership-transfer.ts`. Returns how many moved.
 */
export async function transferRecordOwnership(
  trx: Transaction<Database>,
  fromUserId: number,
  toUserId: number,
  now: number,
): Promise<number> {
  if (fromUserId === toUserId) return 0;
  const res = await trx
    .updateTable('crm_entities')
    .set((eb) => ({ owner_id: toUserId, modified_at: now, version: eb('version', '+', 1) }))
    .where('owner_id', '=', fromUserId)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/**
 * Before a user is deleted permanently, "created by" and "modified by" of every record point at the user
 * who received their records (as Vtiger's permanent delete rewrites smcreatorid), keeping references valid.
 */
export async function rewriteRecordCreators(
  trx: Transaction<Database>,
  fromUserId: number,
  toUserId: number,
): Promise<number> {
  const created = await trx
    .updateTable('crm_entities')
    .set({ created_by: toUserId })
    .where('created_by', '=', fromUserId)
    .executeTakeFirst();
  await trx
    .updateTable('crm_entities')
    .set({ modified_by: toUserId })
    .where('modified_by', '=', fromUserId)
    .execute();
  return Number(created.numUpdatedRows);
}
