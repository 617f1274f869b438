import type { FastifyRequest } from 'fastify';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { userError } from './user.errors.js';
import { findPasswordHash } from './user.repository.js';

/**
 * An action the signed-in user confirms with their current password (changing it, handing over
 * ownership): a wrong one is audited as the action's failure, on `targetId`, and refused.
 */
export async function assertCurrentPassword(
  ctx: AppContext,
  req: FastifyRequest,
  password: string,
  audit: { action: string; targetId: number },
): Promise<void> {
  const db = ctx.db.kysely;
  const callerId = req.auth!.user.id;
  if (await ctx.passwords.verify(await findPasswordHash(db, callerId), password)) return;
  await recordAudit(
    db,
    actorFromRequest(req),
    {
      action: audit.action,
      outcome: 'failure',
      target: { type: 'user', id: audit.targetId },
      details: { reason: 'wrong_current_password' },
    },
    ctx.clock.now(),
  );
  throw userError('WRONG_CURRENT_PASSWORD', 'Your current password is not correct.');
}
