import type { Kysely, Transaction } from 'kysely';
import { passwordProblem } from '../auth/password-policy.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { loadPasswordPolicy } from '../settings/settings.repository.js';
import { userError } from './user.errors.js';
import { updateUserRow } from './user.repository.js';
import { revokeUserTokens } from './user-token.repository.js';

type Q = Kysely<Database> | Transaction<Database>;

export interface PasswordOwner {
  username: string;
  email: string;
  firstName?: string;
  lastName?: string;
}

/** The organisation's password policy plus the common-password list; throws PASSWORD_TOO_WEAK with the reason. */
export async function assertPasswordAllowed(
  ctx: AppContext,
  db: Q,
  password: string,
  owner: PasswordOwner,
): Promise<void> {
  const problem = passwordProblem(password, {
    policy: await loadPasswordPolicy(db),
    commonPasswords: ctx.commonPasswords,
    userDetails: [owner.username, owner.email, owner.firstName ?? '', owner.lastName ?? ''],
  });
  if (problem) throw userError('PASSWORD_TOO_WEAK', problem);
}

/** Store a new hash; outstanding reset links stop working. Ending sessions is the caller's decision. */
export async function storeNewPassword(
  ctx: AppContext,
  trx: Transaction<Database>,
  userId: number,
  password: string,
): Promise<void> {
  const now = ctx.clock.now();
  await updateUserRow(trx, userId, { password_hash: await ctx.passwords.hash(password), updated_at: now });
  await revokeUserTokens(trx, userId, 'password_reset', now);
}
