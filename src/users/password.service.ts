import type { Kysely, Transaction } from 'kysely';
import type { AuditActor } from '../audit/audit.repository.js';
import { clearUserFailures, type LoginAttempt, loginAttemptSucceeded } from '../auth/login-throttle.js';
import { passwordProblem } from '../auth/password-policy.js';
import { deleteUserSessions } from '../auth/session.repository.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { randomToken } from '../platform/crypto.js';
import { loadPasswordPolicy } from '../settings/settings.repository.js';
import { userError } from './user.errors.js';
import type { User } from './user.model.js';
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

export interface PasswordChange {
  /** who set it: the user (who gave the current one), an administrator, or the operator (`rapport reset-password`) */
  by: 'self' | 'admin' | 'cli';
  /** the session that stays signed in (the user's own, when they change their own password) */
  keepSessionId?: number;
  /** forget the sign-in failures counted against the username (the operator vouched for the user) */
  clearFailures?: boolean;
  /** the user proved who they are with this sign-in attempt: forget it and that client's failures */
  attempt?: LoginAttempt;
}

/**
 * Sets a user's password the one way every channel does (REST `POST /users/{id}/password`, the CLI): the
 * organisation's password policy, a new hash, outstanding emailed reset links revoked, every session of
 * the user (bar `keepSessionId`) ended, and an audit entry — `user.password_changed`, or
 * `user.password_reset` when the operator reset it from the command line.
 */
export async function setPassword(
  ctx: AppContext,
  actor: AuditActor,
  user: User,
  newPassword: string,
  change: PasswordChange,
): Promise<{ sessionsEnded: number }> {
  await assertPasswordAllowed(ctx, ctx.db.kysely, newPassword, user);
  return withUnitOfWork(ctx, actor, async (uow) => {
    await storeNewPassword(ctx, uow.trx, user.id, newPassword);
    const sessionsEnded = await deleteUserSessions(uow.trx, user.id, change.keepSessionId);
    if (change.clearFailures) await clearUserFailures(uow.trx, user.username);
    if (change.attempt) await loginAttemptSucceeded(uow.trx, change.attempt);
    await uow.audit({
      action: change.by === 'cli' ? 'user.password_reset' : 'user.password_changed',
      target: { type: 'user', id: user.id },
      details: { by: change.by, sessionsEnded },
    });
    return { sessionsEnded };
  });
}

/** A random password the user's policy accepts (at least 24 characters, longer if the policy asks). */
export async function generatePassword(ctx: AppContext, user: User): Promise<string> {
  const policy = await loadPasswordPolicy(ctx.db.kysely);
  const length = Math.max(24, policy.minLength);
  for (;;) {
    const password = randomToken(Math.ceil((length * 3) / 4)).slice(0, length);
    const problem = passwordProblem(password, {
      policy,
      commonPasswords: ctx.commonPasswords,
      userDetails: [user.username, user.email, user.firstName, user.lastName],
    });
    if (!problem) return password;
  }
}
