import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { moduleMetaFor } from '../module-meta.js';
import { recordPageSerializerCompiler, restRecord, restRecordSchema } from '../record.view.js';
import { parseRestFilters } from '../record-filter.js';
import { countRecords, listRecords, MAX_PAGE_SIZE } from '../record-list.service.js';
import { moduleParams, principalOf, tags } from './record-route-helpers.js';

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
    cursor: z.string().max(4096).optional(),
    sort: z.string().max(300).optional(),
    count: z.enum(['true', 'false']).optional(),
    q: z.string().max(200).optional(),
  })
  .catchall(z.union([z.string().max(1000), z.array(z.string().max(1000)).max(20)]))
  .meta({
    description:
      'Filters: filter[field][op]=value with op eq, ne, lt, lte, gt, gte, contains, startswith, in (comma-separated), empty (true/false). ' +
      'Sort: sort=-modifiedtime,lastname. Keyset pagination: pass nextCursor back as cursor. ' +
      'Search: q=words; every word must appear in the name, number, an email or phone field (or a company, subject, part number).',
  });

export async function listRecordRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/records/:module',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'List the records of a module you may see, filtered and sorted, one page at a time',
        params: moduleParams,
        querystring: listQuery,
        response: {
          200: z.object({
            items: z.array(restRecordSchema),
            nextCursor: z.string().nullable(),
            total: z.number().int().optional(),
          }),
        },
      },
      serializerCompiler: recordPageSerializerCompiler,
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const meta = await moduleMetaFor(ctx, req.params.module);
      const filter = parseRestFilters(req.query);
      const { limit, cursor, sort, q: search } = req.query;
      const page = await listRecords(ctx, p, meta, { filter, search, limit, cursor, sort });
      const total = req.query.count === 'true' ? await countRecords(ctx, p, meta, filter, search) : undefined;
      return {
        items: page.items.map((rec) => restRecord(meta, rec)),
        nextCursor: page.nextCursor,
        ...(total !== undefined ? { total } : {}),
      };
    },
  );
}
