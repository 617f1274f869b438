import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ImpersonationConsentRow } from './impersonation.table.js';

type Q = Kysely<Database> | Transaction<Database>;

/** A pending request waits this long for the user's answer; an approval is good this long for one start. */
export const CONSENT_REQUEST_TTL_MS = 24 * 3_600_000;
export const CONSENT_APPROVAL_TTL_MS = 3_600_000;

export async function insertConsentRequest(
  db: Q,
  r: { adminUserId: number; targetUserId: number; reason: string; now: number },
): Promise<ImpersonationConsentRow> {
  return db
    .insertInto('impersonation_consents')
    .values({
      admin_user_id: r.adminUserId,
      target_user_id: r.targetUserId,
      reason: r.reason,
      status: 'pending',
      created_at: r.now,
      expires_at: r.now + CONSENT_REQUEST_TTL_MS,
      decided_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findConsent(db: Q, id: number): Promise<ImpersonationConsentRow | undefined> {
  return db.selectFrom('impersonation_consents').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listConsentsInvolving(
  db: Q,
  userId: number,
  now: number,
): Promise<ImpersonationConsentRow[]> {
  return db
    .selectFrom('impersonation_consents')
    .selectAll()
    .where((eb) => eb.or([eb('target_user_id', '=', userId), eb('admin_user_id', '=', userId)]))
    .where('expires_at', '>', now - CONSENT_REQUEST_TTL_MS)
    .orderBy('id', 'desc')
    .limit(100)
    .execute();
}

export async function decideConsent(db: Q, id: number, approve: boolean, now: number): Promise<boolean> {
  const r = await db
    .updateTable('impersonation_consents')
    .set({
      status: approve ? 'approved' : 'denied',
      decided_at: now,
      ...(approve ? { expires_at: now + CONSENT_APPROVAL_TTL_MS } : {}),
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Uses one live approval from this target for this admin; false when there is none. */
export async function spendApprovedConsent(
  db: Q,
  adminUserId: number,
  targetUserId: number,
  now: number,
): Promise<boolean> {
  const row = await db
    .selectFrom('impersonation_consents')
    .select('id')
    .where('admin_user_id', '=', adminUserId)
    .where('target_user_id', '=', targetUserId)
    .where('status', '=', 'approved')
    .where('expires_at', '>', now)
    .orderBy('id')
    .executeTakeFirst();
  if (!row) return false;
  const r = await db
    .updateTable('impersonation_consents')
    .set({ status: 'used' })
    .where('id', '=', row.id)
    .where('status', '=', 'approved')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
