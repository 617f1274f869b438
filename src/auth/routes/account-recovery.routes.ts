import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../../audit/audit.repository.js';
import type { AppContext } from '../../context.js';
import { transaction } from '../../db/direct-transaction.js';
import { withUnitOfWork } from '../../db/unit-of-work.js';
import { assertPasswordAllowed, storeNewPassword } from '../../users/password.service.js';
import type { User } from '../../users/user.model.js';
import {
  findActiveUsersByEmail,
  findUserById,
  findUserByUsername,
  updateUserRow,
} from '../../users/user.repository.js';
import { consumeUserToken, lookupUserToken } from '../../users/user-token.repository.js';
import { assertResetRequestAllowed, noteResetRequest, queueResetMail } from '../forgot-password.service.js';
import { clearUserFailures } from '../login-throttle.js';
import { PASSWORD_MAX_LENGTH } from '../password-policy.js';
import { deleteUserSessions } from '../session.repository.js';
import { tokenFailure } from '../token.errors.js';

const tags = ['Authentication'];
const SENT = 'If an account matches, a link to reset its password is on its way. It works once, for 1 hour.';

export async function accountRecoveryRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  r.post(
    '/auth/forgot-password',
    {
      config: { access: 'public' },
      schema: {
        tags,
        security: [],
        summary:
          'Email a single-use password-reset link (valid 1 hour). Give a username, an email, or both (then both must ' +
          'match). The answer is the same whether or not an account matches. Rate-limited.',
        body: z
          .object({ username: z.string().trim().min(1).max(200), email: z.string().trim().min(3).max(254) })
          .partial()
          .strict()
          .refine((b) => b.username !== undefined || b.email !== undefined, 'give a username or an email'),
        response: { 202: z.object({ message: z.string() }) },
      },
    },
    async (req, reply) => {
      const { username, email } = req.body;
      const login = (username ?? email ?? '').toLowerCase();
      await assertResetRequestAllowed(ctx, login, req.ip);
      let users: User[] = [];
      if (username !== undefined) {
        const u = await findUserByUsername(db, username);
        const emailOk = email === undefined || u?.email.toLowerCase() === email.toLowerCase();
        if (u && emailOk && u.status === 'Active' && u.deletedAt === null) users = [u];
      } else if (email !== undefined) {
        users = await findActiveUsersByEmail(db, email);
      }
      await withUnitOfWork(ctx, actorFromRequest(req), async (uow) => {
        await noteResetRequest(uow.trx, login, req.ip, uow.now);
        for (const u of users) await queueResetMail(ctx, uow.trx, u, uow.actor);
        // kicked whether or not an account matched: the answer takes the same path either way
        uow.sendsMail();
      });
      return reply.code(202).send({ message: SENT });
    },
  );

  r.post(
    '/auth/reset-password',
    {
      config: { access: 'public' },
      schema: {
        tags,
        security: [],
        summary: 'Choose a new password with the token from a reset link. Every session of the account ends.',
        body: z
          .object({
            token: z.string().min(1).max(200),
            newPassword: z
              .string()
              .min(1)
              .max(PASSWORD_MAX_LENGTH * 4),
          })
          .strict(),
        response: { 200: z.object({ message: z.string() }) },
      },
    },
    async (req) => {
      const { token, newPassword } = req.body;
      // check the password before spending the token, so a refused password leaves the link usable
      const peek = await lookupUserToken(db, 'password_reset', token, ctx.clock.now());
      if (!peek.ok) throw tokenFailure(peek.reason, 'password-reset');
      const user = await findUserById(db, peek.row.user_id);
      if (user?.status !== 'Active' || user.deletedAt !== null)
        throw tokenFailure('unknown', 'password-reset');
      await assertPasswordAllowed(ctx, db, newPassword, user);
      await transaction(db, async (trx) => {
        const now = ctx.clock.now();
        const found = await consumeUserToken(trx, 'password_reset', token, now);
        if (!found.ok) throw tokenFailure(found.reason, 'password-reset');
        await storeNewPassword(ctx, trx, user.id, newPassword);
        const ended = await deleteUserSessions(trx, user.id);
        await clearUserFailures(trx, user.username);
        // following a link mailed to the address proves it, as a verification link would
        const proves = found.row.email === user.email && user.emailVerifiedAt === null;
        if (proves) await updateUserRow(trx, user.id, { email_verified_at: now });
        await recordAudit(
          trx,
          { ...actorFromRequest(req), userId: user.id, username: user.username },
          {
            action: 'user.password_reset',
            target: { type: 'user', id: user.id },
            details: { sessionsEnded: ended, emailVerified: proves },
          },
          now,
        );
      });
      return { message: 'Your password has been changed. Sign in with the new password.' };
    },
  );
}
