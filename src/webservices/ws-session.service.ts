import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';
import { sha256Hex } from '../platform/crypto.js';
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

export async function openWsSession(
  ctx: AppContext,
  userId: number,
  keyId: number,
  ip: string,
): Promise<{ sessionName: string; id: number }> {
  const sessionName = newSessionName();
  const now = ctx.clock.now();
  // sessions nobody ends explicitly (most clients never log out) are swept here, not by a timer
  await deleteStaleWsSessions(ctx.db.kysely, now - WS_LIMITS.sessionMs, now - WS_LIMITS.idleMs);
  const id = await insertWsSession(ctx.db.kysely, {
    sessionHash: sha256Hex(sessionName),
    userId,
    keyId,
    now,
    ip,
  });
  return { sessionName, id };
}

/**
 * Resolves `sessionName` to the caller. Past its life span or idle limit a session answers
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
  const db = ctx.db.kysely;
  const invalid = () => new WsError('INVALID_SESSIONID', WS_MESSAGES.INVALID_SESSION);
  if (sessionName.length > 256) throw invalid();
  const found = await findWsSessionWithUser(db, sha256Hex(sessionName));
  if (!found) throw invalid();
  const { session: row, user } = found;
  const now = ctx.clock.now();
  if (now > row.created_at + WS_LIMITS.sessionMs) {
    await deleteWsSession(db, row.id);
    throw new WsError('SESSION_EXPIRED', WS_MESSAGES.SESSION_EXPIRED);
  }
  if (now > row.last_seen_at + WS_LIMITS.idleMs) {
    await deleteWsSession(db, row.id);
    throw new WsError('SESSION_LEFT_IDLE', WS_MESSAGES.SESSION_IDLE);
  }
  const currentKey = await deps.keys.currentKeyId(db, row.user_id);
  if (user.status !== 'Active' || user.deletedAt !== null || currentKey !== row.key_id) {
    await deleteWsSession(db, row.id);
    throw invalid();
  }
  if (now - row.last_seen_at >= WS_LIMITS.touchEveryMs) await touchWsSession(db, row.id, now);
  deps.keys.noteKeyUse(ctx, row.key_id, ip);
  const principal = await principalFor(ctx, user);
  return { user, principal, sessionId: row.id, keyId: row.key_id };
}
