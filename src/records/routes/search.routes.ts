import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { searchRecords } from '../record-search.service.js';
import { principalOf, tags } from './record-route-helpers.js';

const hitSchema = z
  .object({
    module: z.string(),
    id: z.number().int(),
    label: z.string(),
    matched: z.array(z.object({ field: z.string(), label: z.string(), value: z.unknown() })),
    modifiedAt: z.string().describe('ISO 8601'),
  })
  .meta({ id: 'SearchHit' });

export async function searchRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/search',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary:
          'Search every module you may see by name, email, phone or record number (each word a prefix), best first',
        querystring: z.object({
          q: z.string().max(200),
          limit: z.coerce.number().int().min(1).max(50).default(20),
        }),
        response: { 200: z.object({ items: z.array(hitSchema) }) },
      },
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const hits = await searchRecords(ctx, p, req.query.q, req.query.limit);
      return { items: hits.map((h) => ({ ...h, modifiedAt: new Date(h.modifiedAt).toISOString() })) };
    },
  );
}
