import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { User } from '../users/user.model.js';
import { openBody } from './sealed-body.js';

const outboxItem = z
  .object({
    id: z.number().int(),
    from: z.string(),
    to: z.string(),
    subject: z.string(),
    text: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'OutboxMail' });

/**
 * Links mailed to an administrator (password reset, verification) are live credentials: only readers who
 * could take that account anyway see them — the administrator themselves and the account owner (who sets
 * admins' passwords directly). Other admins see them hidden; links to other users stay visible to admins,
 * who manage those accounts. So a link never gives its reader more than they already have. At rest the
 * bodies are sealed (sealed-body.ts), so a database dump gives nothing.
 */
async function protectedAddresses(ctx: AppContext, caller: User): Promise<Set<string>> {
  if (caller.isOwner) return new Set();
  const rows = await ctx.db.kysely
    .selectFrom('users')
    .select('email')
    .where('is_admin', '=', 1)
    .where('id', '!=', caller.id)
    .execute();
  const out = new Set(rows.map((r) => r.email.toLowerCase()));
  out.delete(caller.email.toLowerCase());
  return out;
}

function hideLinks(text: string): string {
  return text.replace(
    /([?&]token=)[^\s&]+/g,
    '$1[hidden: only the account owner sees links mailed to administrators]',
  );
}

export async function mailRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/mail/outbox',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['Mail'],
        summary:
          'Mail "sent" while no SMTP server is configured (SMTP_URL unset), newest first. Links in it are live: admins only.',
        querystring: z.object({
          to: z.string().max(254).optional(),
          before: z.coerce.number().int().positive().optional().describe('page: only ids below this'),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: z.object({ items: z.array(outboxItem), smtpConfigured: z.boolean() }) },
      },
    },
    async (req) => {
      const hideFrom = await protectedAddresses(ctx, req.auth!.user);
      let q = ctx.db.kysely.selectFrom('mail_outbox').selectAll();
      if (req.query.to) q = q.where('to_address', '=', req.query.to);
      if (req.query.before) q = q.where('id', '<', req.query.before);
      const rows = await q.orderBy('id', 'desc').limit(req.query.limit).execute();
      return {
        smtpConfigured: ctx.config.mail.smtpUrl !== undefined,
        items: rows.map((m) => ({
          id: m.id,
          from: m.from_address,
          to: m.to_address,
          subject: m.subject,
          text: hideFrom.has(m.to_address.toLowerCase())
            ? hideLinks(openBody(ctx.secrets, m.text_body))
            : openBody(ctx.secrets, m.text_body),
          createdAt: new Date(m.created_at).toISOString(),
        })),
      };
    },
  );
}
