import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest } from '../../audit/audit.repository.js';
import { assertNotImpersonating } from '../../auth/impersonation-guard.js';
import type { AppContext } from '../../context.js';
import { withUnitOfWork } from '../../db/unit-of-work.js';
import { userView, userViewSchema } from '../user.model.js';
import { deleteUser, restoreUser } from '../user-deletion.service.js';

const idParam = z.object({ id: z.coerce.number().int().positive() });
const person = z.object({ id: z.number().int(), username: z.string() });

export async function deleteUserRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.delete(
    '/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Users'],
        summary:
          'Delete a user (admins). Everything they own moves to `transferTo`, an active user, in one transaction; ' +
          'their sessions and access key end at once; they are hidden from lists and can be restored. ' +
          '`permanent=true` removes them for good and moves created-by references too.',
        params: idParam,
        querystring: z.object({
          transferTo: z.coerce
            .number()
            .int()
            .positive()
            .optional()
            .describe('the active user who receives their records'),
          permanent: z.enum(['true', 'false']).default('false'),
        }),
        response: {
          200: z.object({
            deleted: person,
            transferredTo: person,
            recordsTransferred: z.number().int(),
            permanent: z.boolean(),
          }),
        },
      },
    },
    async (req) => {
      assertNotImpersonating(req);
      const permanent = req.query.permanent === 'true';
      const out = await withUnitOfWork(ctx, actorFromRequest(req), async (uow) => {
        uow.invalidatesAuth();
        const o = await deleteUser(ctx, uow, req.auth!.user, {
          targetId: req.params.id,
          transferToId: req.query.transferTo,
          permanent,
        });
        await uow.audit({
          action: permanent ? 'user.deleted_permanently' : 'user.deleted',
          target: { type: 'user', id: o.target.id },
          details: {
            username: o.target.username,
            transferTo: o.receiver.id,
            recordsTransferred: o.recordsTransferred,
          },
        });
        return o;
      });
      return {
        deleted: { id: out.target.id, username: out.target.username },
        transferredTo: { id: out.receiver.id, username: out.receiver.username },
        recordsTransferred: out.recordsTransferred,
        permanent,
      };
    },
  );

  r.post(
    '/users/:id/restore',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Users'],
        summary: 'Restore a deleted user (admins). Records that were transferred stay with their new owner.',
        params: idParam,
        response: { 200: userViewSchema },
      },
    },
    async (req) => {
      const user = await withUnitOfWork(ctx, actorFromRequest(req), async (uow) => {
        uow.invalidatesAuth();
        const u = await restoreUser(uow, req.params.id);
        await uow.audit({
          action: 'user.restored',
          target: { type: 'user', id: u.id },
          details: { username: u.username },
        });
        return u;
      });
      return userView(user);
    },
  );
}
