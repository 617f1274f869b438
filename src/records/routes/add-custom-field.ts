import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest } from '../../audit/audit.repository.js';
import type { AppContext } from '../../context.js';
import { addCustomField } from '../custom-field.service.js';
import { FIELD_TYPES } from '../field.types.js';
import { fieldView, fieldViewSchema } from '../record.view.js';
import { moduleParams, tags } from './record-route-helpers.js';

const noNul = (s: string) => !s.includes('\0');
const body = z.object({
  label: z.string().trim().min(1).max(100).refine(noNul, 'must not contain NUL characters'),
  type: z.enum(FIELD_TYPES.filter((t) => t !== 'owner') as [Exclude<(typeof FIELD_TYPES)[number], 'owner'>]),
  mandatory: z.boolean().optional(),
  picklistValues: z
    .array(z.string().max(200).refine(noNul, 'must not contain NUL characters'))
    .max(200)
    .optional(),
  refersTo: z.array(z.string().max(64)).max(10).optional(),
});

export async function customFieldRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/modules/:module/fields',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Add a custom field to a module (admin); it becomes a real column named cf_<n>',
        params: moduleParams,
        body,
        response: { 201: fieldViewSchema },
      },
    },
    async (req, reply) => {
      const field = await addCustomField(ctx, req.params.module, req.body, actorFromRequest(req));
      return reply.code(201).send(fieldView(field));
    },
  );
}
