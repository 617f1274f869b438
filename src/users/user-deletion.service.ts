import type { AppContext } from '../context.js';
import type { UnitOfWork } from '../db/unit-of-work.js';
import { userError } from './user.errors.js';
import type { User } from './user.model.js';
import { countActiveAdmins, findUserById, updateUserRow } from './user.repository.js';
import type { UserRemoval } from './user-removal.js';

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
 * Vtiger's delete, in the caller's unit of work: every feature's removal hook moves what the user owns to an
 * active user and ends what must end (sessions, key), and the user is marked deleted (restorable).
 * Permanent: the features' purge hooks rewrite remaining references and the row goes, so every foreign key
 * stays valid. The caller audits and clears the auth cache (`uow.invalidatesAuth()`).
 */
export async function deleteUser(
  ctx: AppContext,
  uow: UnitOfWork,
  caller: User,
  req: DeleteRequest,
): Promise<DeleteOutcome> {
  const { trx, now } = uow;
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
  const receiver = await resolveReceiver(uow, target, req.transferToId);
  const removal: UserRemoval = {
    userId: target.id,
    username: target.username,
    receiverId: receiver.id,
    receiverName: receiver.username,
  };
  let recordsTransferred = 0;
  if (target.deletedAt === null) {
    for (const hook of ctx.userRemovalHooks) recordsTransferred += (await hook.deleted?.(uow, removal)) ?? 0;
    await trx.deleteFrom('user_tokens').where('user_id', '=', target.id).execute();
    await updateUserRow(trx, target.id, {
      status: 'Inactive',
      deleted_at: now,
      deleted_transfer_to: receiver.id,
      updated_at: now,
    });
  }
  if (req.permanent) {
    for (const hook of ctx.userRemovalHooks) await hook.purged?.(uow, removal);
    await trx
      .updateTable('users')
      .set({ deleted_transfer_to: receiver.id })
      .where('deleted_transfer_to', '=', target.id)
      .execute();
    await trx.deleteFrom('users').where('id', '=', target.id).execute();
  }
  return { target, receiver, recordsTransferred };
}

export async function restoreUser(uow: UnitOfWork, targetId: number): Promise<User> {
  const { trx } = uow;
  const target = await findUserById(trx, targetId);
  if (!target) throw userError('USER_NOT_FOUND', `There is no user ${targetId}.`);
  if (target.deletedAt === null) throw userError('USER_NOT_DELETED', `${target.username} is not deleted.`);
  await updateUserRow(trx, target.id, {
    status: 'Active',
    deleted_at: null,
    deleted_transfer_to: null,
    updated_at: uow.now,
  });
  return (await findUserById(trx, target.id))!;
}

async function resolveReceiver(
  uow: UnitOfWork,
  target: User,
  transferToId: number | undefined,
): Promise<User> {
  let id = transferToId;
  if (id === undefined && target.deletedAt !== null) {
    const row = await uow.trx
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
  const receiver = await findUserById(uow.trx, id);
  if (!receiver || receiver.id === target.id || receiver.deletedAt !== null || receiver.status !== 'Active')
    throw userError(
      'TRANSFER_TARGET_INVALID',
      `User ${id} cannot receive the records: choose another active user.`,
    );
  return receiver;
}
