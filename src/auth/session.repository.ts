import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { UserRemovalHook } from '../users/user-removal.js';
import type { SessionRow } from './session.table.js';

type Q = Kysely<Database> | Transaction<Database>;

export async function insertSession(
  db: Q,
  row: {
    token_hash: string;
    user_id: number;
    csrf_token: string;
    now: number;
    expires_at: number;
    ip: string;
    user_agent: string;
  },
): Promise<number> {
  const { now, ...rest } = row;
  const r = await db
    .insertInto('sessions')
    .values({ ...rest, created_at: now, last_seen_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export function findSessionByTokenHash(db: Q, tokenHash: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function touchSession(db: Q, id: number, now: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
}

export async function deleteSession(db: Q, id: number): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Deletes the sessions past their absolute end or idle `idleMs` (what `resolveSession` calls expired). */
export async function deleteExpiredSessions(db: Q, now: number, idleMs: number): Promise<number> {
  const r = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - idleMs)]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * Ends every session of a user, including sessions in which they are logged in as someone else, optionally
 * keeping one (the caller's own).
 */
export async function deleteUserSessions(db: Q, userId: number, exceptSessionId?: number): Promise<number> {
  let q = db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('user_id', '=', userId), eb('impersonator_user_id', '=', userId)]));
  if (exceptSessionId !== undefined) q = q.where('id', '!=', exceptSessionId);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** "Log in as": the session now acts as `targetUserId` until `expiresAt`, remembering the admin behind it. */
export async function startImpersonation(
  db: Q,
  sessionId: number,
  adminUserId: number,
  targetUserId: number,
  expiresAt: number,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ user_id: targetUserId, impersonator_user_id: adminUserId, impersonation_expires_at: expiresAt })
    .where('id', '=', sessionId)
    .execute();
}

/** The session returns to the admin who was logged in as someone else. */
export async function endImpersonation(db: Q, sessionId: number, adminUserId: number): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ user_id: adminUserId, impersonator_user_id: null, impersonation_expires_at: null })
    .where('id', '=', sessionId)
    .where('impersonator_user_id', '=', adminUserId)
    .execute();
}

/** A deleted user's sessions end at once, and nobody may log in as them or be asked to allow it. */
export const authUserRemoval: UserRemovalHook = {
  feature: 'auth',
  async deleted({ trx }, removal) {
    await deleteUserSessions(trx, removal.userId);
    await trx
      .deleteFrom('impersonation_consents')
      .where((eb) =>
        eb.or([eb('target_user_id', '=', removal.userId), eb('admin_user_id', '=', removal.userId)]),
      )
      .execute();
    return undefined;
  },
};
