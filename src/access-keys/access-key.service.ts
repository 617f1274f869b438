import type { Kysely, Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import type { Database } from '../db/schema.js';
import type { User } from '../users/user.model.js';
import type { UserRemovalHook } from '../users/user-removal.js';
import type { KeyFailure } from './access-key.errors.js';
import { checkAccessKey, generateAccessKey, keyHint } from './access-key.format.js';
import {
  deleteKeyOfUser,
  findKeyByUserId,
  findKeyWithApiAccess,
  findKeyWithUserByDigest,
  replaceKey,
  setApiAccess,
  usersWithApiAccessButNoKey,
} from './access-key.repository.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Creates (or replaces) the user's key; the old key stops working when the transaction commits. */
export async function issueKey(
  ctx: AppContext,
  trx: Q,
  userId: number,
): Promise<{ keyId: number; plaintext: string }> {
  const plaintext = generateAccessKey();
  const keyId = await replaceKey(trx, userId, {
    digest: ctx.secrets.digest(plaintext),
    ciphertext: ctx.secrets.encrypt(plaintext),
    hint: keyHint(plaintext),
    created_at: ctx.clock.now(),
  });
  return { keyId, plaintext };
}

/** The user's key in clear, for its owner's and admins' reveal and for web-service login. */
export async function loadKeyForUser(
  ctx: AppContext,
  userId: number,
): Promise<{
  keyId: number;
  plaintext: string;
  apiAccess: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
} | null> {
  const row = await findKeyWithApiAccess(ctx.db.kysely, userId);
  if (!row) return null;
  const pending = ctx.keyUsage.peek(row.id);
  return {
    keyId: row.id,
    plaintext: ctx.secrets.decrypt(row.ciphertext),
    apiAccess: Boolean(row.api_access),
    createdAt: row.created_at,
    lastUsedAt: pending?.lastUsedAt ?? row.last_used_at,
    lastUsedIp: pending?.lastUsedIp ?? row.last_used_ip,
  };
}

/**
 * The user's key in clear with their API access, for web-service sign-in (`login`, `extendsession`). Read
 * through the auth cache: a key regenerated or cleared, or API access switched, is an auth change that clears
 * it (after commit here, by NOTIFY or poll on other processes), so a login waits on one fewer statement.
 * What is cached stays encrypted; it is decrypted for each sign-in.
 */
export async function loadKeyForSignIn(
  ctx: AppContext,
  userId: number,
): Promise<{ keyId: number; plaintext: string; apiAccess: boolean } | null> {
  const db = ctx.db.kysely;
  const key = await ctx.authCache.userKeyThrough(userId, db, async () => {
    const row = await findKeyWithApiAccess(db, userId);
    return row && { keyId: row.id, ciphertext: row.ciphertext, apiAccess: Boolean(row.api_access) };
  });
  return key
    ? { keyId: key.keyId, plaintext: ctx.secrets.decrypt(key.ciphertext), apiAccess: key.apiAccess }
    : null;
}

/** The id of the user's current key while API access is on; sessions opened with a key compare against it. */
export async function currentKeyId(db: Q, userId: number): Promise<number | null> {
  const row = await db
    .selectFrom('access_keys')
    .innerJoin('users', 'users.id', 'access_keys.user_id')
    .select('access_keys.id')
    .where('access_keys.user_id', '=', userId)
    .where('users.api_access', '=', 1)
    .executeTakeFirst();
  return row?.id ?? null;
}

export function noteKeyUse(ctx: AppContext, keyId: number, ip: string): void {
  ctx.keyUsage.note(keyId, ip);
}

export type KeyAuthResult = { ok: true; user: User; keyId: number } | { ok: false; failure: KeyFailure };

/**
 * Checks a presented key: offline checks first (no database), then one indexed lookup by keyed digest
 * (served from the auth cache while fresh).
 * The digest comparison happens inside the unique index, so no secret is compared byte by byte in JS.
 */
export async function verifyAccessKey(
  ctx: AppContext,
  presented: string,
  username?: string,
  /** runs before the database lookup (not when the cache answers): may throw to refuse the attempt */
  beforeLookup?: () => Promise<void>,
  /** the keyed digest of a key that passed the offline checks (a caller may remember it, `key-auth.ts`) */
  digestOf: (key: string) => string = ctx.secrets.digest,
): Promise<KeyAuthResult> {
  const check = checkAccessKey(presented);
  if (!check.ok) {
    const failure = (
      {
        WHITESPACE: 'ACCESS_KEY_WHITESPACE',
        MALFORMED: 'ACCESS_KEY_MALFORMED',
        CHECKSUM: 'ACCESS_KEY_CHECKSUM_MISMATCH',
      } as const
    )[check.problem];
    return { ok: false, failure };
  }
  const digest = digestOf(presented);
  let found = ctx.authCache.getKey(digest);
  if (!found) {
    await beforeLookup?.();
    found = await ctx.authCache.keyThrough(digest, ctx.db.kysely, () =>
      findKeyWithUserByDigest(ctx.db.kysely, digest),
    );
  }
  if (!found || found.user.deletedAt !== null) return { ok: false, failure: 'ACCESS_KEY_INVALID' };
  if (username !== undefined && username.toLowerCase() !== found.user.username.toLowerCase()) {
    return { ok: false, failure: 'ACCESS_KEY_INVALID' };
  }
  if (found.user.status !== 'Active') return { ok: false, failure: 'ACCOUNT_INACTIVE' };
  if (!found.user.apiAccess) return { ok: false, failure: 'API_ACCESS_DISABLED' };
  return { ok: true, user: found.user, keyId: found.keyId };
}

/** A user never has a blank key: at start, every user with API access on and no key gets one. */
export async function ensureKeysForAllUsers(ctx: AppContext): Promise<number> {
  const ids = await usersWithApiAccessButNoKey(ctx.db.kysely);
  for (const id of ids) {
    await transaction(ctx.db.kysely, async (trx) => {
      if (!(await findKeyByUserId(trx, id))) await issueKey(ctx, trx, id);
    });
  }
  return ids.length;
}

/**
 * When a user is deleted their key dies at once and API access goes off, as after Clear API Key: a
 * restored user gets a new key only by turning API access on again.
 */
export const accessKeysUserRemoval: UserRemovalHook = {
  feature: 'access-keys',
  async deleted({ trx, now }, removal) {
    await deleteKeyOfUser(trx, removal.userId);
    await setApiAccess(trx, removal.userId, false, now);
    return undefined;
  },
};
