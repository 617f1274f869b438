import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest } from '../../audit/audit.repository.js';
import { assertNotImpersonating } from '../../auth/impersonation-guard.js';
import { PASSWORD_MAX_LENGTH } from '../../auth/password-policy.js';
import type { AppContext } from '../../context.js';
import { withUnitOfWork } from '../../db/unit-of-work.js';
import { assertCurrentPassword } from '../current-password.js';
import { userError } from '../user.errors.js';
import { userView, userViewSchema } from '../user.model.js';
import { findUserById } from '../user.repository.js';

/**
 * `POST /users/{id}/ownership`: the account owner hands ownership to another active administrator, giving
 * their own password again. Nobody else can move ownership; the previous owner stays an administrator.
 */
export async function transferOwnershipRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  r.post(
    '/users/:id/ownership',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Users'],
        summary:
          'Make another active administrator the account owner (the owner only, with their current password). ' +
          'The previous owner stays an administrator.',
        params: z.object({ id: z.coerce.number().int().positive() }),
        body: z
          .object({
            currentPassword: z
              .string()
              .min(1)
              .max(PASSWORD_MAX_LENGTH * 4),
          })
          .strict(),
        response: { 200: z.object({ previousOwner: userViewSchema, owner: userViewSchema }) },
      },
    },
    async (req) => {
      assertNotImpersonating(req);
      const caller = req.auth!.user;
      if (!caller.isOwner)
        throw userError('PERMISSION_DENIED', 'Only the account owner can hand over ownership.');
      const target = await findUserById(db, req.params.id);
      if (!target || target.deletedAt !== null)
        throw userError('USER_NOT_FOUND', `There is no user ${req.params.id}.`);
      if (target.id === caller.id || !target.isAdmin || target.status !== 'Active')
        throw userError(
          'TRANSFER_TARGET_INVALID',
          'Ownership goes to another active administrator: make them an administrator first.',
          { details: { field: 'id' } },
        );
      await assertCurrentPassword(ctx, req, req.body.currentPassword, {
        action: 'user.ownership_transferred',
        targetId: target.id,
      });
      await withUnitOfWork(ctx, actorFromRequest(req), async (uow) => {
        uow.invalidatesAuth();
        // conditional updates: two simultaneous transfers cannot leave two owners or none
        const gave = await uow.trx
          .updateTable('users')
          .set({ is_owner: 0, updated_at: uow.now })
          .where('id', '=', caller.id)
          .where('is_owner', '=', 1)
          .executeTakeFirst();
        const took = await uow.trx
          .updateTable('users')
          .set({ is_owner: 1, updated_at: uow.now })
          .where('id', '=', target.id)
          .where('is_admin', '=', 1)
          .where('status', '=', 'Active')
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        if (Number(gave.numUpdatedRows) !== 1 || Number(took.numUpdatedRows) !== 1)
          throw userError('CONFLICT', 'Ownership changed meanwhile: reload and try again.');
        await uow.audit({
          action: 'user.ownership_transferred',
          target: { type: 'user', id: target.id },
          details: { from: caller.username, to: target.username },
        });
      });
      return {
        previousOwner: userView((await findUserById(db, caller.id))!),
        owner: userView((await findUserById(db, target.id))!),
      };
    },
  );
}
