import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { randomToken, sha256Hex } from '../platform/crypto.js';
import type { UserTokenPurpose, UserTokenRow } from './user-token.table.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Issue a single-use token; returns the plaintext for the email link. Only its hash is stored. */
export async function issueUserToken(
  trx: Q,
  t: { userId: number; purpose: UserTokenPurpose; email: string; now: number; ttlMs: number },
): Promise<string> {
  const token = randomToken(32);
  await trx
    .insertInto('user_tokens')
    .values({
      user_id: t.userId,
      purpose: t.purpose,
      token_hash: sha256Hex(token),
      email: t.email,
      created_at: t.now,
      expires_at: t.now + t.ttlMs,
      used_at: null,
    })
    .execute();
  return token;
}

export type TokenLookup =
  | { ok: true; row: UserTokenRow }
  | { ok: false; reason: 'unknown' | 'expired' | 'used' };

/**
 * Use a token exactly once: the update only matches an unused, unexpired row, so two concurrent uses
 * cannot both succeed.
 */
export async function consumeUserToken(
  trx: Q,
  purpose: UserTokenPurpose,
  token: string,
  now: number,
): Promise<TokenLookup> {
  const found = await lookupUserToken(trx, purpose, token, now);
  if (!found.ok) return found;
  const r = await trx
    .updateTable('user_tokens')
    .set({ used_at: now })
    .where('id', '=', found.row.id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return { ok: false, reason: 'used' };
  return { ok: true, row: { ...found.row, used_at: now } };
}

/** What a token is, without using it. */
export async function lookupUserToken(
  trx: Q,
  purpose: UserTokenPurpose,
  token: string,
  now: number,
): Promise<TokenLookup> {
  const row = await trx
    .selectFrom('user_tokens')
    .selectAll()
    .where('token_hash', '=', sha256Hex(token))
    .where('purpose', '=', purpose)
    .executeTakeFirst();
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.used_at !== null) return { ok: false, reason: 'used' };
  if (now >= row.expires_at) return { ok: false, reason: 'expired' };
  return { ok: true, row };
}

/** Every outstanding token of this purpose stops working (a newer link was sent, or the password changed). */
export async function revokeUserTokens(
  trx: Q,
  userId: number,
  purpose: UserTokenPurpose,
  now: number,
): Promise<void> {
  await trx
    .updateTable('user_tokens')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}
