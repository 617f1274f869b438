import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { moduleMetaFor } from '../module-meta.js';
import { recordError } from '../record.errors.js';
import { recordPageSerializerCompiler, restRecord, restRecordSchema } from '../record.view.js';
import { getRecord, viewModule } from '../record-read.service.js';
import { countRelated, relatedRecords, relationsOf } from '../record-relations.js';
import { orderExpressions, parseSort } from '../record-sort.js';
import { principalOf, recordParams, tags } from './record-route-helpers.js';

const relationSchema = z
  .object({
    module: z.string().describe('the related module (its records point at this one)'),
    label: z.string(),
    fields: z.array(z.string()).describe('the reference fields of the related module that point here'),
    total: z.number().int().describe('how many related records you may see'),
  })
  .meta({ id: 'RecordRelation' });

/**
 * Related lists over REST: an organization's contacts, deals, quotes and tickets (every module with a
 * reference field pointing at this one), each counted, then one list at a time. Both read through
 * record-relations, so sharing and the presenter apply as everywhere.
 */
export async function relatedRecordRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/records/:module/:id/related',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: "A record's related lists (the modules whose records point at it) with how many you may see",
        params: recordParams,
        response: { 200: z.object({ items: z.array(relationSchema) }) },
      },
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const meta = await moduleMetaFor(ctx, req.params.module);
      await getRecord(ctx, p, meta, req.params.id);
      const items = [];
      for (const relation of await relationsOf(ctx, p, meta.name)) {
        const view = await viewModule(ctx, p, relation.target);
        items.push({
          module: relation.target.name,
          label: relation.label,
          fields: relation.fields,
          total: await countRelated(ctx, view, relation, req.params.id),
        });
      }
      return { items };
    },
  );

  r.get(
    '/records/:module/:id/related/:related',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'One related list of a record: the records of another module that point at it, newest first',
        params: recordParams.extend({ related: z.string().min(1).max(64) }),
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(20),
          offset: z.coerce.number().int().min(0).max(100_000).default(0),
          sort: z.string().max(300).optional(),
        }),
        response: { 200: z.object({ items: z.array(restRecordSchema), total: z.number().int() }) },
      },
      serializerCompiler: recordPageSerializerCompiler,
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const meta = await moduleMetaFor(ctx, req.params.module);
      await getRecord(ctx, p, meta, req.params.id);
      const relation = (await relationsOf(ctx, p, meta.name)).find(
        (x) => x.target.name === req.params.related,
      );
      if (!relation)
        throw recordError(
          'MODULE_NOT_FOUND',
          `${meta.label} have no related list "${req.params.related.slice(0, 64)}".`,
        );
      const view = await viewModule(ctx, p, relation.target);
      const order = orderExpressions(relation.target, parseSort(view, req.query.sort ?? '-modifiedtime'));
      const [rows, total] = await Promise.all([
        relatedRecords(ctx, view, relation, req.params.id, {
          order,
          limit: req.query.limit,
          offset: req.query.offset,
        }),
        countRelated(ctx, view, relation, req.params.id),
      ]);
      return { items: rows.map((rec) => restRecord(relation.target, rec)), total };
    },
  );
}
