import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { listAudit } from './audit.repository.js';

const auditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    action: z.string(),
    outcome: z.enum(['success', 'failure']),
    actor: z.object({ userId: z.number().int().nullable(), username: z.string().nullable() }),
    target: z.object({ type: z.string(), id: z.string() }).nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

const querySchema = z.object({
  action: z.string().max(100).optional().describe('exact action, or a prefix such as `user.*`'),
  actorUserId: z.coerce.number().int().positive().optional(),
  targetType: z.string().max(50).optional(),
  targetId: z.string().max(100).optional(),
  outcome: z.enum(['success', 'failure']).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  before: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe('cursor: the `nextCursor` of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export async function auditRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/audit',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Audit'],
        summary: 'Read the audit log (admins), newest first',
        querystring: querySchema,
        response: {
          200: z.object({ items: z.array(auditEntrySchema), nextCursor: z.number().int().nullable() }),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await listAudit(ctx.db.kysely, {
        ...q,
        from: q.from ? Date.parse(q.from) : undefined,
        to: q.to ? Date.parse(q.to) : undefined,
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      return {
        items: page.map((r) => ({
          id: r.id,
          at: new Date(r.at).toISOString(),
          action: r.action,
          outcome: r.outcome,
          actor: { userId: r.actor_user_id, username: r.actor_username },
          target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
          ip: r.ip,
          userAgent: r.user_agent,
          requestId: r.request_id,
          details: JSON.parse(r.details) as Record<string, unknown>,
        })),
        nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  );
}
