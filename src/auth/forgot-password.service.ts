import type { Transaction } from 'kysely';
import { type AuditActor, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { enqueueMail } from '../mail/mail-queue.repository.js';
import { issueUserToken } from '../users/user-token.repository.js';
import { tokenError } from './token.errors.js';

export const RESET_TTL_MS = 3_600_000;
const WINDOW_MS = 3_600_000;
const MAX_PER_LOGIN = 5;
const MAX_PER_IP = 20;

/** Requests are counted per identifier typed and per IP, whether or not an account matches. */
export async function assertResetRequestAllowed(ctx: AppContext, login: string, ip: string): Promise<void> {
  const since = ctx.clock.now() - WINDOW_MS;
  for (const [scope, key, max] of [
    ['forgot-login', login, MAX_PER_LOGIN],
    ['forgot-ip', ip, MAX_PER_IP],
  ] as const) {
    const r = await ctx.db.kysely
      .selectFrom('auth_failures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('at', '>', since)
      .executeTakeFirstOrThrow();
    if (Number(r.n) >= max) {
      throw tokenError('TOO_MANY_REQUESTS', 'Too many password-reset requests. Try again in an hour.', {
        headers: { 'retry-after': '3600' },
      });
    }
  }
}

export async function noteResetRequest(
  trx: Transaction<Database>,
  login: string,
  ip: string,
  now: number,
): Promise<void> {
  await trx
    .insertInto('auth_failures')
    .values([
      { scope: 'forgot-login', key: login, at: now },
      { scope: 'forgot-ip', key: ip, at: now },
    ])
    .execute();
}

/** Queue a single-use reset link (1 hour) for one account, in the request's transaction. */
export async function queueResetMail(
  ctx: AppContext,
  trx: Transaction<Database>,
  user: { id: number; username: string; email: string; firstName: string },
  actor: AuditActor,
): Promise<void> {
  const now = ctx.clock.now();
  const token = await issueUserToken(trx, {
    userId: user.id,
    purpose: 'password_reset',
    email: user.email,
    now,
    ttlMs: RESET_TTL_MS,
  });
  const link = `${ctx.config.publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
  await enqueueMail(
    trx,
    {
      to: user.email,
      subject: 'Reset your Rapport password',
      sealWith: ctx.secrets,
      text:
        `Hello ${user.firstName || user.username},\n\n` +
        `someone asked to reset the password of the Rapport account "${user.username}". ` +
        `To choose a new password, open this link; it works once and expires in 1 hour:\n\n${link}\n\n` +
        'If it was not you, ignore this message: your password stays as it is.\n',
    },
    ctx.config.mail.from,
    now,
  );
  await recordAudit(
    trx,
    { ...actor, userId: user.id, username: user.username },
    { action: 'auth.password_reset_requested', target: { type: 'user', id: user.id } },
    now,
  );
}
