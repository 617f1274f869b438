import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { redactUrl } from '../platform/logger.js';

/**
 * onSend hook: while an admin is logged in as a user, every request is audited with both of them (the
 * admin as actor, the user as target). onSend rather than onResponse: the entry is written before the
 * answer leaves, so no request the admin saw an answer to goes unaudited.
 */
export function auditImpersonatedRequest(ctx: AppContext) {
  return async <T>(req: FastifyRequest, reply: FastifyReply, payload: T): Promise<T> => {
    const impersonator = req.auth?.impersonator;
    if (!impersonator) return payload;
    const user = req.auth!.user;
    try {
      await recordAudit(
        ctx.db.kysely,
        {
          userId: impersonator.id,
          username: impersonator.username,
          ip: req.ip,
          userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512),
          requestId: req.id,
        },
        {
          action: 'impersonation.request',
          outcome: reply.statusCode < 400 ? 'success' : 'failure',
          target: { type: 'user', id: user.id },
          details: {
            actingAs: { id: user.id, username: user.username },
            method: req.method,
            url: redactUrl(req.url).slice(0, 500),
            status: reply.statusCode,
          },
        },
        ctx.clock.now(),
      );
    } catch (err) {
      req.log.error({ err }, 'could not audit a request made while logged in as another user');
    }
    return payload;
  };
}
