import type { Kysely } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';

/**
 * The access-key functions web services need, exactly as `src/access-keys/access-key.service.ts` exports
 * them. Passed in rather than imported so the protocol can be tested with an in-memory key store.
 */
export interface WsKeyFunctions {
  loadKeyForSignIn(
    ctx: AppContext,
    userId: number,
  ): Promise<{ keyId: number; plaintext: string; apiAccess: boolean } | null>;
  currentKeyId(db: Kysely<Database>, userId: number): Promise<number | null>;
  noteKeyUse(ctx: AppContext, keyId: number, ip: string): void;
}

/** Vtiger's limits: challenge tokens live 5 minutes; sessions 1 day, or 30 minutes unused. */
export const WS_LIMITS = {
  tokenMs: 5 * 60_000,
  sessionMs: 24 * 3_600_000,
  idleMs: 30 * 60_000,
  /** last-seen is written at most this often, so a busy session is not a write per request */
  touchEveryMs: 60_000,
  /**
   * live getchallenge tokens kept per (user, client IP): a client's new token evicts only its own oldest.
   * Above the concurrency of real clients: with 5, ten workers logging in as one user evicted each other's
   * tokens, the evicted logins failed as wrong keys and the user was locked out (measured by the bench).
   */
  challengesPerClient: 50,
  /** and per user across all clients (a bound on the table, reached only by many IPs at once) */
  challengesPerUser: 200,
} as const;

export const WS_API_VERSION = '0.22';
export const WS_VTIGER_VERSION = '8.2.0';
/** Vtiger's ws entity id for Users on every stock install (`19x1` is the admin in every client's docs). */
export const USERS_WS_PREFIX = 19;
