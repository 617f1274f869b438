import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { CachedWsSession } from '../access-keys/auth-cache.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { sha256Hex } from '../platform/crypto.js';
import { upkeepDue } from '../platform/upkeep.js';
import { principalFor } from '../roles/principal.js';
import { WS_LIMITS } from './ws-deps.js';
import { WS_MESSAGES, WsError } from './ws-errors.js';
import type { WsCaller, WsDeps } from './ws-operation.js';
import {
  deleteStaleWsSessions,
  deleteWsSession,
  findWsSessionWithUser,
  insertWsSession,
  touchWsSession,
} from './ws-session.repository.js';

/** A sessionName: 128 bits from the CSPRNG, hex like Vtiger's (which used `uniqid`/`rand`). */
export function newSessionName(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Deletes sessions past their life span or idle limit. Sessions nobody ends explicitly (most clients never
 * log out) are swept when a session opens, not by a timer — at most once a minute per process, since the
 * sweep scans the sessions table (once per login it was a write statement per login).
 */
export async function sweepWsSessions(ctx: AppContext): Promise<void> {
  const now = ctx.clock.now();
  if (!upkeepDue(ctx, 'web-service sessions past their life', now, 60_000)) return;
  await deleteStaleWsSessions(ctx.db.kysely, now - WS_LIMITS.sessionMs, now - WS_LIMITS.idleMs);
}

/**
 * Opens a session for the user's current key. Given `trx` (the login's own transaction, so the session,
 * the audit entry and the forgiven attempt commit together), the caller sweeps first: nothing may use
 * another connection while a SQLite transaction is open.
 */
export async function openWsSession(
  ctx: AppContext,
  userId: number,
  keyId: number,
  ip: string,
  trx?: Transaction<Database>,
): Promise<{ sessionName: string; id: number }> {
  const sessionName = newSessionName();
  const now = ctx.clock.now();
  if (!trx) await sweepWsSessions(ctx);
  const id = await insertWsSession(trx ?? ctx.db.kysely, {
    sessionHash: sha256Hex(sessionName),
    userId,
    keyId,
    now,
    ip,
  });
  return { sessionName, id };
}

/**
 * Resolves `sessionName` to the caller, from the auth cache while fresh (key, user and API-access changes
 * clear it, so an ended session is refused at once here and within a poll of the auth version on other
 * replicas). Past its life span or idle limit a session answers
 * SESSION_EXPIRED / SESSION_LEFT_IDLE once and is gone (then INVALID_SESSIONID), as in Vtiger. Unlike
 * Vtiger, a session also ends when its key is no longer the user's current key (regenerated, cleared,
 * API access off) or the user is inactive or deleted.
 */
export async function resolveWsSession(
  ctx: AppContext,
  deps: WsDeps,
  sessionName: string,
  ip: string,
): Promise<WsCaller> {
  const invalid = () => new WsError('INVALID_SESSIONID', WS_MESSAGES.INVALID_SESSION);
  if (sessionName.length > 256) throw invalid();
  const hash = sha256Hex(sessionName);
  const now = ctx.clock.now();
  // the cache only ever answers "still valid": anything else is decided from the database below
  let entry = ctx.authCache.getWsSession(hash);
  if (entry && !liveFor(entry, now)) {
    ctx.authCache.dropWsSession(hash);
    entry = undefined;
  }
  if (!entry) entry = await readWsSession(ctx, deps, hash, now);
  const { session: row, user } = entry;
  if (now - row.last_seen_at >= WS_LIMITS.touchEveryMs) {
    row.last_seen_at = now;
    await touchWsSession(ctx.db.kysely, row.id, now);
  }
  deps.keys.noteKeyUse(ctx, row.key_id, ip);
  const principal = await principalFor(ctx, user);
  return { user, principal, sessionId: row.id, keyId: row.key_id };
}

function liveFor(e: CachedWsSession, now: number): boolean {
  return (
    now <= e.session.created_at + WS_LIMITS.sessionMs &&
    now <= e.session.last_seen_at + WS_LIMITS.idleMs &&
    e.user.status === 'Active' &&
    e.user.deletedAt === null &&
    e.currentKeyId === e.session.key_id
  );
}

/** The session from the database, ended (and refused) when expired, idle, orphaned by a key change or an inactive user. */
async function readWsSession(
  ctx: AppContext,
  deps: WsDeps,
  hash: string,
  now: number,
): Promise<CachedWsSession> {
  const db = ctx.db.kysely;
  const generation = ctx.authCache.generation;
  const found = await findWsSessionWithUser(db, hash);
  if (!found) throw new WsError('INVALID_SESSIONID', WS_MESSAGES.INVALID_SESSION);
  const { session: row } = found;
  if (now > row.created_at + WS_LIMITS.sessionMs) {
    await deleteWsSession(db, row.id);
    throw new WsError('SESSION_EXPIRED', WS_MESSAGES.SESSION_EXPIRED);
  }
  if (now > row.last_seen_at + WS_LIMITS.idleMs) {
    await deleteWsSession(db, row.id);
    throw new WsError('SESSION_LEFT_IDLE', WS_MESSAGES.SESSION_IDLE);
  }
  const entry = { ...found, currentKeyId: await deps.keys.currentKeyId(db, row.user_id) };
  if (!liveFor(entry, now)) {
    await deleteWsSession(db, row.id);
    throw new WsError('INVALID_SESSIONID', WS_MESSAGES.INVALID_SESSION);
  }
  ctx.authCache.setWsSession(hash, entry, generation);
  return entry;
}
