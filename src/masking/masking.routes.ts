import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { listModuleMetas } from '../records/module-meta.js';
import { recordParams, writerOf } from '../records/routes/record-route-helpers.js';
import { MAX_KEEP, maskKind, PADDING } from './mask-format.js';
import { listRules, type MaskingRule, unmaskProfileIds } from './masking.repository.js';
import {
  changeRule,
  createRule,
  notMaskableReason,
  previewMask,
  removeRule,
  revealField,
  setUnmask,
} from './masking.service.js';

const tags = ['Masking'];
const keep = z.number().int().min(0).max(MAX_KEEP);
const ruleSchema = z
  .object({
    id: z.number().int(),
    module: z.string(),
    field: z.string(),
    level: z.enum(['module', 'role']),
    roleIds: z.array(z.number().int()),
    includeSubordinates: z.boolean(),
    keepFirst: z.number().int(),
    keepLast: z.number().int(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'MaskingRule' });
const ruleBody = z.object({
  level: z.enum(['module', 'role']),
  roleIds: z.array(z.number().int().positive().max(2_147_483_647)).max(200).optional(),
  includeSubordinates: z.boolean().optional(),
  keepFirst: keep.optional(),
  keepLast: keep.optional(),
});
const idParams = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });

const ruleView = (r: MaskingRule): z.infer<typeof ruleSchema> => ({
  id: r.id,
  module: r.module,
  field: r.field,
  level: r.level,
  roleIds: r.roleIds,
  includeSubordinates: r.includeSubordinates,
  keepFirst: r.pattern.keepFirst,
  keepLast: r.pattern.keepLast,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export async function maskingRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const admin = { access: 'admin' as const };

  r.get(
    '/masking/rules',
    {
      config: admin,
      schema: {
        tags,
        summary: 'List the masking rules',
        response: { 200: z.object({ items: z.array(ruleSchema) }) },
      },
    },
    async () => ({ items: (await listRules(ctx.db.kysely)).map(ruleView) }),
  );

  r.post(
    '/masking/rules',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Mask a phone, email or text field, for every user (module level) or for roles (role level)',
        body: ruleBody.extend({ module: z.string().min(1).max(64), field: z.string().min(1).max(64) }),
        response: { 201: ruleSchema },
      },
    },
    async (req, reply) =>
      reply.code(201).send(ruleView(await createRule(ctx, actorFromRequest(req), req.body))),
  );

  r.patch(
    '/masking/rules/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Change a masking rule: its level, roles or pattern',
        params: idParams,
        body: ruleBody,
        response: { 200: ruleSchema },
      },
    },
    async (req) => ruleView(await changeRule(ctx, actorFromRequest(req), req.params.id, req.body)),
  );

  r.delete(
    '/masking/rules/:id',
    {
      config: admin,
      schema: { tags, summary: 'Stop masking a field', params: idParams, response: { 204: z.null() } },
    },
    async (req, reply) => {
      await removeRule(ctx, actorFromRequest(req), req.params.id);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/masking/fields',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Every module field, whether it can be masked (and why not), and its rule',
        response: {
          200: z.object({
            padding: z.string(),
            maxKeep: z.number().int(),
            modules: z.array(
              z.object({
                name: z.string(),
                label: z.string(),
                fields: z.array(
                  z.object({
                    name: z.string(),
                    label: z.string(),
                    type: z.string(),
                    custom: z.boolean(),
                    maskKind: z.enum(['phone', 'email', 'text']).nullable(),
                    notMaskableReason: z.string().nullable(),
                    ruleId: z.number().int().nullable(),
                  }),
                ),
              }),
            ),
          }),
        },
      },
    },
    async () => {
      const [metas, rules] = await Promise.all([listModuleMetas(ctx.db.kysely), listRules(ctx.db.kysely)]);
      return {
        padding: PADDING,
        maxKeep: MAX_KEEP,
        modules: metas.map((m) => ({
          name: m.name,
          label: m.label,
          fields: m.fields.map((f) => {
            const why = notMaskableReason(m, f);
            return {
              name: f.name,
              label: f.label,
              type: f.type,
              custom: f.custom ?? false,
              maskKind: why ? null : maskKind(f.type),
              notMaskableReason: why,
              ruleId: rules.find((x) => x.module === m.name && x.field === f.name)?.id ?? null,
            };
          }),
        })),
      };
    },
  );

  r.post(
    '/masking/preview',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Preview how a pattern masks a sample value (nothing is stored)',
        body: z.object({
          kind: z.enum(['phone', 'email', 'text']),
          value: z.string().max(500),
          keepFirst: keep.optional(),
          keepLast: keep.optional(),
        }),
        response: { 200: z.object({ masked: z.string() }) },
      },
    },
    async (req) => ({ masked: previewMask(req.body.kind, req.body, req.body.value) }),
  );

  r.get(
    '/masking/unmask',
    {
      config: admin,
      schema: {
        tags,
        summary: 'The profiles granting Unmask (reveal one masked value at a time, audited)',
        response: { 200: z.object({ profileIds: z.array(z.number().int()) }) },
      },
    },
    async () => ({ profileIds: await unmaskProfileIds(ctx.db.kysely) }),
  );

  r.put(
    '/masking/unmask',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Set the profiles granting Unmask; admins are masked too unless their profile is listed',
        body: z.object({ profileIds: z.array(z.number().int().positive().max(2_147_483_647)).max(500) }),
        response: { 200: z.object({ profileIds: z.array(z.number().int()) }) },
      },
    },
    async (req) => ({ profileIds: await setUnmask(ctx, actorFromRequest(req), req.body.profileIds) }),
  );

  r.post(
    '/records/:module/:id/reveal',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['Records'],
        summary: 'Reveal one masked value of one record (needs the Unmask permission; audited)',
        params: recordParams,
        body: z.object({ field: z.string().min(1).max(64) }),
        response: {
          200: z.object({
            field: z.string(),
            value: z.unknown(),
            masked: z
              .boolean()
              .describe('whether the field is masked for you (false: the value was not hidden)'),
          }),
        },
      },
    },
    async (req) =>
      revealField(ctx, await writerOf(ctx, req), req.params.module, req.params.id, req.body.field),
  );
}
