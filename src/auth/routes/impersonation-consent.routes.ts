import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../../audit/audit.repository.js';
import type { AppContext } from '../../context.js';
import { transaction } from '../../db/direct-transaction.js';
import { loadVisibleUser } from '../../users/user.routes.js';
import type { ImpersonationConsentRow } from '../impersonation.table.js';
import {
  decideConsent,
  findConsent,
  insertConsentRequest,
  listConsentsInvolving,
} from '../impersonation-consent.repository.js';
import { assertNotImpersonating, impersonationError } from '../impersonation-guard.js';

const tags = ['Log in as'];
const consentSchema = z
  .object({
    id: z.number().int(),
    adminUserId: z.number().int(),
    targetUserId: z.number().int(),
    reason: z.string(),
    status: z.enum(['pending', 'approved', 'denied', 'used', 'expired']),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: 'ImpersonationRequest' });

function view(c: ImpersonationConsentRow, now: number): z.infer<typeof consentSchema> {
  const lapsed = (c.status === 'pending' || c.status === 'approved') && now >= c.expires_at;
  return {
    id: c.id,
    adminUserId: c.admin_user_id,
    targetUserId: c.target_user_id,
    reason: c.reason,
    status: lapsed ? 'expired' : c.status,
    createdAt: new Date(c.created_at).toISOString(),
    expiresAt: new Date(c.expires_at).toISOString(),
  };
}

/**
 * Consent for "log in as", used when Settings → impersonation.requireConsent is on: an admin asks, the
 * user approves or denies, an approval allows one start within an hour.
 */
export async function impersonationConsentRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  r.post(
    '/users/:id/impersonation-requests',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Ask a user for consent to log in as them (pending for 24 hours)',
        params: z.object({ id: z.coerce.number().int().positive() }),
        body: z.object({ reason: z.string().trim().min(1).max(500) }).strict(),
        response: { 201: consentSchema },
      },
    },
    async (req, reply) => {
      assertNotImpersonating(req);
      const target = await loadVisibleUser(ctx, req.params.id);
      const now = ctx.clock.now();
      const row = await transaction(db, async (trx) => {
        const c = await insertConsentRequest(trx, {
          adminUserId: req.auth!.user.id,
          targetUserId: target.id,
          reason: req.body.reason,
          now,
        });
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'impersonation.consent_requested',
            target: { type: 'user', id: target.id },
            details: { requestId: c.id },
          },
          now,
        );
        return c;
      });
      return reply.code(201).send(view(row, now));
    },
  );

  r.get(
    '/impersonation-requests',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Requests to log in as you, and (admins) the requests you made, newest first',
        response: { 200: z.object({ items: z.array(consentSchema) }) },
      },
    },
    async (req) => {
      const now = ctx.clock.now();
      return { items: (await listConsentsInvolving(db, req.auth!.user.id, now)).map((c) => view(c, now)) };
    },
  );

  for (const decision of ['approve', 'deny'] as const) {
    r.post(
      `/impersonation-requests/:requestId/${decision}`,
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary:
            decision === 'approve'
              ? 'Approve a request to log in as you (good for one start within 1 hour)'
              : 'Deny a request to log in as you',
          params: z.object({ requestId: z.coerce.number().int().positive() }),
          response: { 200: consentSchema },
        },
      },
      async (req) => {
        assertNotImpersonating(req);
        const me = req.auth!.user;
        const found = await findConsent(db, req.params.requestId);
        // someone else's request answers like a missing one
        if (!found || found.target_user_id !== me.id)
          throw impersonationError(
            'CONSENT_NOT_FOUND',
            `There is no request ${req.params.requestId} to log in as you.`,
          );
        const now = ctx.clock.now();
        await transaction(db, async (trx) => {
          if (!(await decideConsent(trx, found.id, decision === 'approve', now)))
            throw impersonationError(
              'CANNOT_IMPERSONATE',
              'This request was already answered or has expired.',
            );
          await recordAudit(
            trx,
            actorFromRequest(req),
            {
              action: `impersonation.consent_${decision === 'approve' ? 'approved' : 'denied'}`,
              target: { type: 'user', id: found.admin_user_id },
              details: { requestId: found.id },
            },
            now,
          );
        });
        return view((await findConsent(db, found.id))!, now);
      },
    );
  }
}
