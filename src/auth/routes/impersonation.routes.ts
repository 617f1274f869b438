import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../../audit/audit.repository.js';
import type { AppContext } from '../../context.js';
import { transaction } from '../../db/direct-transaction.js';
import { loadSettings } from '../../settings/settings.repository.js';
import { userView, userViewSchema } from '../../users/user.model.js';
import { findUserById } from '../../users/user.repository.js';
import { loadVisibleUser } from '../../users/user.routes.js';
import { spendApprovedConsent } from '../impersonation-consent.repository.js';
import { assertNotImpersonating, impersonationError } from '../impersonation-guard.js';
import { endImpersonation, startImpersonation } from '../session.repository.js';

const tags = ['Log in as'];
const personSchema = z.object({ id: z.number().int(), username: z.string() });

export async function impersonationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  r.post(
    '/users/:id/impersonate',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary:
          'Log in as this user (admins; another admin only for the account owner). Your session acts as them for at most ' +
          '1 hour; their access key and password stay out of reach; every request is audited with both of you. ' +
          'If Settings require consent, the user must first approve an impersonation request.',
        params: z.object({ id: z.coerce.number().int().positive() }),
        response: {
          200: z.object({ user: userViewSchema, impersonatedBy: personSchema, endsAt: z.string() }),
        },
      },
    },
    async (req) => {
      assertNotImpersonating(req);
      const admin = req.auth!.user;
      const session = req.auth!.session;
      if (!session)
        throw impersonationError(
          'SESSION_REQUIRED',
          'Log in as another user from a signed-in browser session, not with an access key.',
        );
      const target = await loadVisibleUser(ctx, req.params.id);
      if (target.id === admin.id)
        throw impersonationError('CANNOT_IMPERSONATE', 'You cannot log in as yourself.');
      if (target.status !== 'Active')
        throw impersonationError(
          'CANNOT_IMPERSONATE',
          `${target.username} is inactive and cannot be logged in as.`,
        );
      if (target.isAdmin && !admin.isOwner)
        throw impersonationError(
          'CANNOT_IMPERSONATE',
          'Only the account owner can log in as another administrator.',
        );
      const settings = (await loadSettings(db)).impersonation;
      const now = ctx.clock.now();
      const endsAt = now + Math.min(60, settings.maxMinutes) * 60_000;
      await transaction(db, async (trx) => {
        if (settings.requireConsent && !(await spendApprovedConsent(trx, admin.id, target.id, now))) {
          throw impersonationError(
            'CONSENT_REQUIRED',
            `${target.username} must approve first: send a request with POST /api/v1/users/${target.id}/impersonation-requests.`,
          );
        }
        await startImpersonation(trx, session.id, admin.id, target.id, endsAt);
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'impersonation.started',
            target: { type: 'user', id: target.id },
            details: { targetUsername: target.username, endsAt, withConsent: settings.requireConsent },
          },
          now,
        );
      });
      return {
        user: userView(target),
        impersonatedBy: { id: admin.id, username: admin.username },
        endsAt: new Date(endsAt).toISOString(),
      };
    },
  );

  r.post(
    '/auth/stop-impersonating',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Stop logging in as another user and return to your own account',
        response: { 200: z.object({ user: userViewSchema }) },
      },
    },
    async (req) => {
      const { impersonator, session, user } = req.auth!;
      if (!impersonator || !session)
        throw impersonationError('NOT_IMPERSONATING', 'You are not logged in as another user.');
      await transaction(db, async (trx) => {
        await endImpersonation(trx, session.id, impersonator.id);
        await recordAudit(
          trx,
          { ...actorFromRequest(req), userId: impersonator.id, username: impersonator.username },
          {
            action: 'impersonation.stopped',
            target: { type: 'user', id: user.id },
            details: { targetUsername: user.username },
          },
          ctx.clock.now(),
        );
      });
      return { user: userView((await findUserById(db, impersonator.id))!) };
    },
  );
}
