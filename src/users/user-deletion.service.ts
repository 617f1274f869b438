import type { Transaction } from 'kysely';
import { deleteUserSessions } from '../auth/session.repository.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { userError } from './user.errors.js';
import type { User } from './user.model.js';
import { countActiveAdmins, findUserById, updateUserRow } from './user.repository.js';

export interface DeleteRequest {
  targetId: number;
  /** required for a soft delete; a permanent delete of a deleted user defaults to whoever got their records */
  transferToId?: number;
  permanent: boolean;
}

export interface DeleteOutcome {
  target: User;
  receiver: User;
  recordsTransferred: number;
}

/**
 * Vtiger's delete: in one transaction, everything the user owns moves to an active user, their sessions and
 * key die, and they are marked deleted (restorable). Permanent: created-by style references move too and
 * the row goes, so every foreign key stays valid.
 */
export async function deleteUser(
  ctx: AppContext,
  trx: Transaction<Database>,
  caller: User,
  req: DeleteRequest,
): Promise<DeleteOutcome> {
  const target = await findUserById(trx, req.targetId);
  if (!target || (target.deletedAt !== null && !req.permanent))
    throw userError('USER_NOT_FOUND', `There is no user ${req.targetId}.`);
  if (target.id === caller.id) throw userError('CANNOT_DELETE_SELF', 'You cannot delete your own account.');
  if (target.isOwner) throw userError('CANNOT_DELETE_OWNER', 'The account owner cannot be deleted.');
  if (target.isAdmin && !caller.isOwner)
    throw userError('PERMISSION_DENIED', 'Only the account owner can delete another administrator.');
  const isActiveAdmin = target.isAdmin && target.status === 'Active' && target.deletedAt === null;
  if (isActiveAdmin && (await countActiveAdmins(trx)) <= 1)
    throw userError('LAST_ADMIN', 'This is the last active administrator; it cannot be deleted.');
  const receiver = await resolveReceiver(trx, target, req.transferToId);
  const now = ctx.clock.now();
  let recordsTransferred = 0;
  if (target.deletedAt === null) {
    for (const transfer of ctx.ownershipTransfers)
      recordsTransferred += await transfer(trx, target.id, receiver.id, now);
    for (const hook of ctx.userRemovalHooks) await hook(trx, target.id, now);
    await deleteUserSessions(trx, target.id);
    await trx.deleteFrom('user_tokens').where('user_id', '=', target.id).execute();
    await trx.deleteFrom('impersonation_consents').where('target_user_id', '=', target.id).execute();
    await trx.deleteFrom('impersonation_consents').where('admin_user_id', '=', target.id).execute();
    await updateUserRow(trx, target.id, {
      status: 'Inactive',
      deleted_at: now,
      deleted_transfer_to: receiver.id,
      updated_at: now,
    });
  }
  if (req.permanent) {
    for (const transfer of ctx.ownershipTransfers)
      recordsTransferred += await transfer(trx, target.id, receiver.id, now);
    for (const rewrite of ctx.creatorRewrites) await rewrite(trx, target.id, receiver.id, now);
    for (const hook of ctx.userRemovalHooks) await hook(trx, target.id, now);
    await rewriteOwnReferences(trx, target.id, receiver.id);
    await trx.deleteFrom('users').where('id', '=', target.id).execute();
  }
  return { target, receiver, recordsTransferred };
}

export async function restoreUser(
  ctx: AppContext,
  trx: Transaction<Database>,
  targetId: number,
): Promise<User> {
  const target = await findUserById(trx, targetId);
  if (!target) throw userError('USER_NOT_FOUND', `There is no user ${targetId}.`);
  if (target.deletedAt === null) throw userError('USER_NOT_DELETED', `${target.username} is not deleted.`);
  await updateUserRow(trx, target.id, {
    status: 'Active',
    deleted_at: null,
    deleted_transfer_to: null,
    updated_at: ctx.clock.now(),
  });
  return (await findUserById(trx, target.id))!;
}

async function resolveReceiver(
  trx: Transaction<Database>,
  target: User,
  transferToId: number | undefined,
): Promise<User> {
  let id = transferToId;
  if (id === undefined && target.deletedAt !== null) {
    const row = await trx
      .selectFrom('users')
      .select('deleted_transfer_to')
      .where('id', '=', target.id)
      .executeTakeFirst();
    id = row?.deleted_transfer_to ?? undefined;
  }
  if (id === undefined)
    throw userError(
      'TRANSFER_TARGET_REQUIRED',
      'Choose the active user who receives the records: ?transferTo={userId}.',
    );
  const receiver = await findUserById(trx, id);
  if (!receiver || receiver.id === target.id || receiver.deletedAt !== null || receiver.status !== 'Active')
    throw userError(
      'TRANSFER_TARGET_INVALID',
      `User ${id} cannot receive the records: choose another active user.`,
    );
  return receiver;
}

/** This feature's own references to a user, moved before the row goes (sessions, tokens, consents cascade). */
async function rewriteOwnReferences(trx: Transaction<Database>, fromId: number, toId: number): Promise<void> {
  await trx
    .updateTable('settings')
    .set({ updated_by_user_id: toId })
    .where('updated_by_user_id', '=', fromId)
    .execute();
  await trx
    .updateTable('setup_checklist')
    .set({ updated_by_user_id: toId })
    .where('updated_by_user_id', '=', fromId)
    .execute();
  await trx
    .updateTable('mail_queue')
    .set({ sender_user_id: null })
    .where('sender_user_id', '=', fromId)
    .execute();
  await trx
    .updateTable('users')
    .set({ deleted_transfer_to: toId })
    .where('deleted_transfer_to', '=', fromId)
    .execute();
}
