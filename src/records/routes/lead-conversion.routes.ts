import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { convertLead, type LeadConversion, leadConversionOf } from '../lead-conversion.service.js';
import { recordError } from '../record.errors.js';
import { principalOf, tags, writerOf } from './record-route-helpers.js';

const leadParams = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });
const values = z
  .record(z.string(), z.unknown())
  .describe('field values for the new record, over those taken from the lead ({} uses the lead’s)');

const conversionSchema = z
  .object({
    leadId: z.number().int(),
    accountId: z.number().int().nullable(),
    contactId: z.number().int().nullable(),
    potentialId: z.number().int().nullable(),
    convertedBy: z.number().int().nullable(),
    convertedAt: z.string().describe('ISO 8601'),
  })
  .meta({ id: 'LeadConversion' });

const view = <T extends LeadConversion>(c: T) => ({
  ...c,
  convertedAt: new Date(c.convertedAt).toISOString(),
});

/** Lead conversion over REST: the same service as the web-service `convertlead` operation. */
export async function leadConversionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/records/Leads/:id/convert',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary:
          'Convert a lead into an organization and/or a contact, and optionally a deal, in one change; the lead is marked converted',
        params: leadParams,
        body: z
          .object({
            assignedTo: z.number().int().positive().max(2_147_483_647).optional(),
            account: values.optional(),
            contact: values.optional(),
            potential: values.optional(),
          })
          .strict(),
        response: { 201: conversionSchema.extend({ accountCreated: z.boolean() }) },
      },
    },
    async (req, reply) => {
      const w = await writerOf(ctx, req);
      const done = await convertLead(ctx, w, req.params.id, req.body);
      return reply.code(201).send(view(done));
    },
  );

  r.get(
    '/records/Leads/:id/conversion',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'What a converted lead became (404 when the lead is not converted)',
        params: leadParams,
        response: { 200: conversionSchema },
      },
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const found = await leadConversionOf(ctx, { principal: p }, req.params.id);
      if (!found) throw recordError('RECORD_NOT_FOUND', 'This lead has not been converted.');
      return view(found);
    },
  );
}
