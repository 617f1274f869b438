import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { mayUnmask } from '../../masking/masking-cache.js';
import { canUseModule, type Principal } from '../../roles/permissions.js';
import { listModuleMetas, type ModuleMeta, moduleMetaFor } from '../module-meta.js';
import { recordError } from '../record.errors.js';
import { fieldView, moduleDescriptionSchema, moduleSummarySchema } from '../record.view.js';
import { moduleViewFor } from '../record-presenter.js';
import { moduleParams, principalOf, tags } from './record-route-helpers.js';

function summary(meta: ModuleMeta, p: Principal) {
  return {
    name: meta.name,
    label: meta.label,
    singular: meta.singular,
    idPrefix: String(meta.wsEntityId),
    createable: canUseModule(p, meta.name, 'create'),
    updateable: canUseModule(p, meta.name, 'edit'),
    deleteable: canUseModule(p, meta.name, 'delete'),
    retrieveable: canUseModule(p, meta.name, 'view'),
  };
}

export async function describeModuleRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/modules',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'The record modules you may use',
        response: { 200: z.object({ items: z.array(moduleSummarySchema) }) },
      },
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const metas = await listModuleMetas(ctx.db.kysely);
      return { items: metas.filter((m) => canUseModule(p, m.name, 'view')).map((m) => summary(m, p)) };
    },
  );

  r.get(
    '/modules/:module',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Describe a module: its fields, types, mandatory flags, picklist values and references',
        params: moduleParams,
        response: { 200: moduleDescriptionSchema },
      },
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const meta = await moduleMetaFor(ctx, req.params.module);
      if (!canUseModule(p, meta.name, 'view'))
        throw recordError('MODULE_PERMISSION_DENIED', `You do not have permission to see ${meta.label}.`);
      const [view, mayReveal] = await Promise.all([moduleViewFor(ctx, p, meta), mayUnmask(ctx, p)]);
      return {
        ...summary(meta, p),
        labelFields: [...meta.labelFields],
        hasLineItems: meta.hasLineItems ?? false,
        fields: meta.fields.map((f) =>
          view.masked.has(f.name) ? { ...fieldView(f), masked: true } : fieldView(f),
        ),
        ...(view.masked.size ? { mayReveal } : {}),
      };
    },
  );
}
