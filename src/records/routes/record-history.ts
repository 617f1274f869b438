import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { moduleMetaFor } from '../module-meta.js';
import { recordHistory } from '../record-history.service.js';
import { principalOf, recordParams, tags } from './record-route-helpers.js';

const historyEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string().describe('ISO 8601'),
    action: z.enum(['created', 'updated', 'deleted']),
    actor: z.object({ id: z.number().int().nullable(), name: z.string().nullable() }),
    impersonator: z.string().nullable().describe('the administrator logged in as the actor, if any'),
    channel: z.enum(['web', 'api', 'webservice', 'mailroom', 'system']),
    source: z.string().nullable().describe('what made the change when it was not the actor’s own edit'),
    changes: z.array(z.object({ field: z.string(), label: z.string(), old: z.unknown(), new: z.unknown() })),
  })
  .meta({ id: 'RecordHistoryEntry' });

export async function recordHistoryRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/records/:module/:id/history',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary:
          'The history of a record, newest first: who created, changed or deleted it, through which channel, and each field before and after',
        params: recordParams,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
        }),
        response: {
          200: z.object({ items: z.array(historyEntrySchema), nextBefore: z.number().int().nullable() }),
        },
      },
    },
    async (req) => {
      const [p, meta] = await Promise.all([principalOf(ctx, req), moduleMetaFor(ctx, req.params.module)]);
      const page = await recordHistory(ctx, p, meta, req.params.id, req.query);
      return {
        items: page.items.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
        nextBefore: page.nextBefore,
      };
    },
  );
}
