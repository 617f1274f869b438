import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest } from '../../audit/audit.repository.js';
import { assertNotImpersonating } from '../../auth/impersonation-guard.js';
import { beginLoginAttempt, type LoginAttempt, settleLoginAttempt } from '../../auth/login-throttle.js';
import { PASSWORD_MAX_LENGTH } from '../../auth/password-policy.js';
import type { AppContext } from '../../context.js';
import { assertCurrentPassword } from '../current-password.js';
import { assertOwnerActionAllowed } from '../owner-guard.js';
import { setPassword } from '../password.service.js';
import { selfOrAdmin } from '../self-or-admin.js';
import { userError } from '../user.errors.js';
import { loadVisibleUser, resolveUserId, userIdParam } from '../user.routes.js';

const password = z
  .string()
  .min(1)
  .max(PASSWORD_MAX_LENGTH * 4);

/**
 * `POST /users/me/password` (needs the current password; the caller's other sessions end) and
 * `POST /users/{id}/password` (admins, no current password; all of that user's sessions end).
 */
export async function changePasswordRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/users/:id/password',
    {
      config: { access: 'authenticated' },
      preValidation: selfOrAdmin('set the password of'),
      schema: {
        tags: ['Users'],
        summary:
          'Change a password. For yourself (`me`) give currentPassword; your other sessions end. Admins set ' +
          "another user's password without it; all of that user's sessions end.",
        params: userIdParam,
        body: z.object({ currentPassword: password.optional(), newPassword: password }).strict(),
        response: { 200: z.object({ sessionsEnded: z.number().int() }) },
      },
    },
    async (req) => {
      assertNotImpersonating(req);
      const caller = req.auth!.user;
      const target = await loadVisibleUser(ctx, resolveUserId(req, req.params.id));
      const self = target.id === caller.id;
      let attempt: LoginAttempt | undefined;
      assertOwnerActionAllowed(caller, target, 'set the password of');
      if (!self && target.isAdmin && !caller.isOwner)
        throw userError(
          'PERMISSION_DENIED',
          "Only the account owner can set another administrator's password.",
        );
      try {
        if (self) {
          const current = req.body.currentPassword;
          if (current === undefined)
            throw userError('CURRENT_PASSWORD_REQUIRED', 'Give your current password to change it.');
          attempt = await beginLoginAttempt(ctx, caller.username, req.ip);
          await assertCurrentPassword(ctx, req, current, {
            action: 'user.password_changed',
            targetId: caller.id,
          });
        }
        return setPassword(ctx, actorFromRequest(req), target, req.body.newPassword, {
          by: self ? 'self' : 'admin',
          keepSessionId: self ? req.auth!.session?.id : undefined,
          attempt,
        });
      } finally {
        settleLoginAttempt(ctx, attempt);
      }
    },
  );
}
