import type { Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { randomToken, sha256Hex } from '../platform/crypto.js';
import { upkeepDue } from '../platform/upkeep.js';
import type { User } from '../users/user.model.js';
import { findUserById } from '../users/user.repository.js';
import {
  deleteExpiredSessions,
  deleteSession,
  endImpersonation,
  findSessionByTokenHash,
  insertSession,
  touchSession,
} from './session.repository.js';

export const SESSION_COOKIE = 'rapport_session';
/** last_seen_at is written at most this often per session, so reads do not all become writes. */
const TOUCH_INTERVAL_MS = 60_000;

export interface NewSession {
  id: number;
  token: string;
  csrfToken: string;
  expiresAt: number;
}

/**
 * Deletes sessions past their absolute end or idle limit. Otherwise a session goes only at sign-out or when
 * presented after it expired, so one never presented again (a browser closed without signing out) stayed
 * for good, with its user's address and browser. Swept when a session opens, at most once a minute per
 * process, as web-service sessions are (`sweepWsSessions`); call it outside the sign-in's transaction.
 */
export async function sweepSessions(ctx: AppContext): Promise<void> {
  const now = ctx.clock.now();
  if (!upkeepDue(ctx, 'sessions past their life', now, 60_000)) return;
  await deleteExpiredSessions(ctx.db.kysely, now, ctx.config.session.idleMs);
}

export async function createSession(
  ctx: AppContext,
  trx: Transaction<Database>,
  user: User,
  client: { ip: string; userAgent: string },
): Promise<NewSession> {
  const token = randomToken(32);
  const csrfToken = randomToken(24);
  const now = ctx.clock.now();
  const expiresAt = now + ctx.config.session.absoluteMs;
  const id = await insertSession(trx, {
    token_hash: sha256Hex(token),
    user_id: user.id,
    csrf_token: csrfToken,
    now,
    expires_at: expiresAt,
    ip: client.ip,
    user_agent: client.userAgent.slice(0, 512),
  });
  return { id, token, csrfToken, expiresAt };
}

export type SessionLookup =
  | {
      ok: true;
      user: User;
      session: { id: number; csrfToken: string };
      impersonator?: { id: number; username: string };
      impersonationExpiresAt?: number;
    }
  | { ok: false; reason: 'unknown' | 'expired' | 'inactive' | 'impersonation-ended' };

/** Checked against the database on every request, so a session ended on one replica is ended on all. */
export async function resolveSession(ctx: AppContext, token: string): Promise<SessionLookup> {
  const db = ctx.db.kysely;
  const row = await findSessionByTokenHash(db, sha256Hex(token));
  if (!row) return { ok: false, reason: 'unknown' };
  const now = ctx.clock.now();
  if (now >= row.expires_at || now - row.last_seen_at >= ctx.config.session.idleMs) {
    await deleteSession(db, row.id);
    return { ok: false, reason: 'expired' };
  }
  let impersonator: { id: number; username: string } | undefined;
  if (row.impersonator_user_id !== null) {
    if (now >= (row.impersonation_expires_at ?? 0)) {
      // time is up: the session returns to the admin, who is told so rather than acting as either user
      await endImpersonation(db, row.id, row.impersonator_user_id);
      return { ok: false, reason: 'impersonation-ended' };
    }
    const admin = await findUserById(db, row.impersonator_user_id);
    if (admin?.status !== 'Active' || admin.deletedAt !== null || !admin.isAdmin) {
      await deleteSession(db, row.id);
      return { ok: false, reason: 'inactive' };
    }
    impersonator = { id: admin.id, username: admin.username };
  }
  const user = await findUserById(db, row.user_id);
  if (user?.status !== 'Active' || user.deletedAt !== null) return { ok: false, reason: 'inactive' };
  if (now - row.last_seen_at >= TOUCH_INTERVAL_MS) await touchSession(db, row.id, now);
  return {
    ok: true,
    user,
    session: { id: row.id, csrfToken: row.csrf_token },
    ...(impersonator ? { impersonator, impersonationExpiresAt: row.impersonation_expires_at! } : {}),
  };
}
