import { type SqlBool, sql } from 'kysely';
import type { UnitOfWork } from '../db/unit-of-work.js';
import type { UserRemoval, UserRemovalHook } from '../users/user-removal.js';
import { listModuleMetas } from './module-meta.js';
import { withLineItems } from './quote-line-items.service.js';
import { selectRecords } from './record.repository.js';
import { logRecordChanges, type RecordChange } from './record-change-log.js';

const PAGE = 1000;

/**
 * Moves every record of one user (deleted ones too, so a restore finds a live owner) to another, through
 * the record write path: each moved record gets a version, a history row and (when live) a
 * `record.updated` event in the caller's unit of work, a page of records at a time. Answers how many moved.
 */
export async function transferOwnership(uow: UnitOfWork, removal: UserRemoval): Promise<number> {
  const { trx, now } = uow;
  const from = removal.userId;
  const to = removal.receiverId;
  if (from === to) return 0;
  const author = {
    actor: uow.actor,
    channel: 'system' as const,
    source: `Records of deleted user ${removal.username} moved to ${removal.receiverName}`,
  };
  let moved = 0;
  for (const meta of await listModuleMetas(trx)) {
    let after = 0;
    for (;;) {
      const page = await selectRecords(
        trx,
        meta,
        [sql<SqlBool>`e.owner_id = ${from}`, sql<SqlBool>`e.id > ${after}`],
        { includeDeleted: true, order: [{ expr: sql.ref('e.id'), desc: false }], limit: PAGE },
      );
      if (page.length === 0) break;
      after = page[page.length - 1]!.id;
      const ids = page.map((r) => r.id);
      await trx
        .updateTable('crm_entities')
        .set((eb) => ({ owner_id: to, modified_at: now, version: eb('version', '+', 1) }))
        .where('id', 'in', ids)
        .execute();
      await withLineItems(trx, meta, page);
      const changes: RecordChange[] = page.map((rec) => ({
        action: 'updated',
        record: {
          ...rec,
          ownerId: to,
          version: rec.version + 1,
          modifiedAt: now,
          fields: { ...rec.fields, assigned_user_id: to, modifiedtime: now },
        },
        changes: { assigned_user_id: [from, to] },
      }));
      // one audit entry covers the whole deletion (the users feature writes it)
      await logRecordChanges(uow, author, meta, changes, { audit: false });
      moved += page.length;
      if (page.length < PAGE) break;
    }
  }
  return moved;
}

/**
 * Before a user is deleted permanently, "created by" and "modified by" of every record point at the user
 * who received their records (as Vtiger's permanent delete rewrites smcreatorid), keeping references valid.
 */
async function rewriteRecordCreators(uow: UnitOfWork, removal: UserRemoval): Promise<void> {
  const { trx } = uow;
  await trx
    .updateTable('crm_entities')
    .set({ created_by: removal.receiverId })
    .where('created_by', '=', removal.userId)
    .execute();
  await trx
    .updateTable('crm_entities')
    .set({ modified_by: removal.receiverId })
    .where('modified_by', '=', removal.userId)
    .execute();
}

export const recordsUserRemoval: UserRemovalHook = {
  feature: 'records',
  deleted: transferOwnership,
  purged: rewriteRecordCreators,
};
