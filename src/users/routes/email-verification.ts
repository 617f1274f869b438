import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../../audit/audit.repository.js';
import { tokenError, tokenFailure } from '../../auth/token.errors.js';
import type { AppContext } from '../../context.js';
import { transaction } from '../../db/direct-transaction.js';
import { withUnitOfWork } from '../../db/unit-of-work.js';
import {
  assertVerificationMailAllowed,
  queueVerificationMail,
  verifyEmailToken,
} from '../email-verification.service.js';
import { userError } from '../user.errors.js';
import { userView, userViewSchema } from '../user.model.js';
import { loadVisibleUser, resolveUserId, userIdParam } from '../user.routes.js';

export async function emailVerificationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  r.post(
    '/auth/verify-email',
    {
      config: { access: 'public' },
      schema: {
        tags: ['Authentication'],
        security: [],
        summary: 'Verify an email address with the token from a verification link (single use, 24 hours)',
        body: z.object({ token: z.string().min(1).max(200) }).strict(),
        response: {
          200: z.object({ email: z.string(), emailVerified: z.literal(true), emailVerifiedAt: z.string() }),
        },
      },
    },
    async (req) => {
      const result = await transaction(db, async (trx) => {
        const v = await verifyEmailToken(ctx, trx, req.body.token);
        if (v.ok) {
          await recordAudit(
            trx,
            { ...actorFromRequest(req), userId: v.user.id, username: v.user.username },
            {
              action: 'user.email_verified',
              target: { type: 'user', id: v.user.id },
              details: { email: v.user.email },
            },
            ctx.clock.now(),
          );
        }
        return v;
      });
      if (!result.ok) throw tokenFailure(result.reason, 'email verification');
      return {
        email: result.user.email,
        emailVerified: true as const,
        emailVerifiedAt: new Date(result.user.emailVerifiedAt!).toISOString(),
      };
    },
  );

  r.post(
    '/users/:id/verification-email',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['Users'],
        summary:
          'Send a new verification link to the user (admins, or yourself); earlier links stop working. ' +
          'At most 5 links per user per hour (429 after that).',
        params: userIdParam,
        response: { 202: userViewSchema },
      },
    },
    async (req, reply) => {
      const caller = req.auth!.user;
      const target = await loadVisibleUser(ctx, resolveUserId(req, req.params.id));
      if (target.id !== caller.id && !caller.isAdmin)
        throw userError(
          'PERMISSION_DENIED',
          'Only an administrator can send a verification link to another user.',
        );
      if (target.emailVerifiedAt !== null)
        throw tokenError('EMAIL_ALREADY_VERIFIED', `${target.email} is already verified.`);
      await assertVerificationMailAllowed(ctx, target.id);
      await withUnitOfWork(ctx, actorFromRequest(req), async (uow) => {
        await queueVerificationMail(ctx, uow.trx, target);
        uow.sendsMail();
        await uow.audit({
          action: 'user.verification_sent',
          target: { type: 'user', id: target.id },
          details: { email: target.email },
        });
      });
      return reply.code(202).send(userView(target));
    },
  );
}
