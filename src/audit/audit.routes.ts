import { stringify } from 'csv-stringify/sync';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { type AuditQuery, actorFromRequest, listAudit, recordAudit, userNames } from './audit.repository.js';
import { type AuditEntryView, auditEntrySchema, auditView, mentionedUserIds } from './audit.view.js';

const filterSchema = z.object({
  action: z.string().max(100).optional().describe('exact action, or a prefix such as `user.*`'),
  actorUserId: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe('who did it (an administrator who was logged in as someone is the actor)'),
  targetType: z.string().max(50).optional(),
  targetId: z.string().max(100).optional(),
  outcome: z.enum(['success', 'failure']).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('entries at or after this time'),
  to: z.iso.datetime({ offset: true }).optional().describe('entries before this time'),
});

const querySchema = filterSchema.extend({
  before: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe('cursor: the `nextCursor` of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** The most rows one export holds; narrow the filters for more. */
export const AUDIT_EXPORT_MAX = 50_000;
const EXPORT_PAGE = 1000;

function toQuery(q: z.infer<typeof filterSchema>): Omit<AuditQuery, 'limit'> {
  return { ...q, from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined };
}

/** Text starting with = + - @ (or a tab/CR) gets a leading ' so spreadsheets do not run it. */
function cell(s: string | null | undefined): string {
  if (!s) return '';
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function person(p: AuditEntryView['actor'] | null): string {
  if (!p) return '';
  if (p.userId === null && p.username === null) return 'system';
  return p.name && p.name !== p.username ? `${p.name} (${p.username})` : (p.username ?? `user ${p.userId}`);
}

export async function auditRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;

  r.get(
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
      const rows = await listAudit(db, { ...toQuery(q), before: q.before, limit: q.limit + 1 });
      const page = rows.slice(0, q.limit);
      return {
        items: auditView(page, await userNames(db, mentionedUserIds(page))),
        nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  );

  r.get(
    '/audit/export.csv',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Audit'],
        summary: `The audit log entries matching the filters as CSV (admins), newest first, at most ${AUDIT_EXPORT_MAX}; the export is audited`,
        querystring: filterSchema,
        produces: ['text/csv'],
      },
    },
    async (req, reply) => {
      const filters = toQuery(req.query);
      const rows = [];
      let before: number | undefined;
      while (rows.length < AUDIT_EXPORT_MAX) {
        const page = await listAudit(db, {
          ...filters,
          before,
          limit: Math.min(EXPORT_PAGE, AUDIT_EXPORT_MAX - rows.length),
        });
        rows.push(...page);
        if (page.length < EXPORT_PAGE) break;
        before = page.at(-1)!.id;
      }
      const entries = auditView(rows, await userNames(db, mentionedUserIds(rows)));
      const csv = stringify(
        entries.map((e) => [
          e.at,
          cell(person(e.actor)),
          cell(person(e.actingAs)),
          e.action,
          e.outcome,
          cell(e.target ? (e.target.label ?? `${e.target.type} ${e.target.id}`) : ''),
          cell(Object.keys(e.details).length ? JSON.stringify(e.details) : ''),
          cell(e.ip),
          cell(e.requestId),
        ]),
        {
          header: true,
          columns: [
            'When',
            'Who',
            'Logged in as',
            'Action',
            'Outcome',
            'Target',
            'Details',
            'IP',
            'Request ID',
          ],
        },
      );
      await recordAudit(
        db,
        actorFromRequest(req),
        { action: 'audit.exported', details: { filters: req.query, rows: entries.length } },
        ctx.clock.now(),
      );
      const day = new Date(ctx.clock.now()).toISOString().slice(0, 10);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-log-${day}.csv"`)
        .send(csv);
    },
  );
}
