import type { Transaction } from 'kysely';
import { tokenError } from '../auth/token.errors.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { enqueueMail } from '../mail/mail-queue.repository.js';
import type { User } from './user.model.js';
import { findUserById, updateUserRow } from './user.repository.js';
import { consumeUserToken, issueUserToken, revokeUserTokens } from './user-token.repository.js';

export const VERIFICATION_TTL_MS = 24 * 3_600_000;
/** links sent to one user per hour, however asked for: a button cannot be used to flood an inbox */
export const VERIFICATION_MAILS_PER_HOUR = 5;

export async function assertVerificationMailAllowed(ctx: AppContext, userId: number): Promise<void> {
  const r = await ctx.db.kysely
    .selectFrom('user_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('purpose', '=', 'email_verification')
    .where('created_at', '>', ctx.clock.now() - 3_600_000)
    .executeTakeFirstOrThrow();
  if (Number(r.n) >= VERIFICATION_MAILS_PER_HOUR)
    throw tokenError(
      'TOO_MANY_REQUESTS',
      `${VERIFICATION_MAILS_PER_HOUR} verification links were sent to this user in the last hour. Try again later.`,
      { headers: { 'retry-after': '3600' } },
    );
}

/** Queue a verification link to the user's current address; earlier links stop working. Call after commit: kick. */
export async function queueVerificationMail(
  ctx: AppContext,
  trx: Transaction<Database>,
  user: Pick<User, 'id' | 'email' | 'firstName' | 'username'>,
): Promise<void> {
  const now = ctx.clock.now();
  await revokeUserTokens(trx, user.id, 'email_verification', now);
  const token = await issueUserToken(trx, {
    userId: user.id,
    purpose: 'email_verification',
    email: user.email,
    now,
    ttlMs: VERIFICATION_TTL_MS,
  });
  const link = `${ctx.config.publicUrl}/verify-email?token=${encodeURIComponent(token)}`;
  await enqueueMail(
    trx,
    {
      to: user.email,
      subject: 'Verify your email address for Rapport',
      sealWith: ctx.secrets,
      text:
        `Hello ${user.firstName || user.username},\n\n` +
        `please confirm that ${user.email} is your email address by opening this link within 24 hours:\n\n${link}\n\n` +
        'Until you do, Rapport shows the address as unverified and never sends mail from it.\n' +
        'If you did not expect this message, you can ignore it.\n',
    },
    ctx.config.mail.from,
    now,
  );
}

export type VerifyResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'unknown' | 'expired' | 'used' | 'stale' };

/** Marks the address verified if the token is valid and the address is still the user's current one. */
export async function verifyEmailToken(
  ctx: AppContext,
  trx: Transaction<Database>,
  token: string,
): Promise<VerifyResult> {
  const now = ctx.clock.now();
  const found = await consumeUserToken(trx, 'email_verification', token, now);
  if (!found.ok) return found;
  const user = await findUserById(trx, found.row.user_id);
  if (!user || user.deletedAt !== null || user.email !== found.row.email)
    return { ok: false, reason: 'stale' };
  await updateUserRow(trx, user.id, { email_verified_at: now });
  return { ok: true, user: (await findUserById(trx, user.id))! };
}
