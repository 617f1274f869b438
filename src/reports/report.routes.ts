import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import type { Principal } from '../roles/permissions.js';
import { principalFor } from '../roles/principal.js';
import {
  createReport,
  deleteReport,
  getReport,
  listReports,
  type SavedReport,
  updateReport,
} from './report.service.js';
import { csvCell } from './report-csv.js';
import { reportDefinitionSchema } from './report-definition.js';
import { openReportRows, runReport, SCREEN_ROW_LIMIT } from './report-runner.js';
import { createSchedule, deleteSchedule, listSchedules, type Schedule } from './report-schedule.service.js';
import { reportSources } from './report-sources.js';

const tags = ['Reports'];
const scheduleSchema = z
  .object({
    id: z.number().int(),
    reportId: z.number().int(),
    frequency: z.enum(['daily', 'weekly', 'monthly', 'once']),
    weekdays: z.array(z.number().int()),
    dayOfMonth: z.number().int().nullable(),
    onDate: z.string().nullable(),
    timeUtc: z.string(),
    recipientUserIds: z.array(z.number().int()),
    recipientRoleIds: z.array(z.number().int()),
    recipientEmails: z.array(z.string()),
    enabled: z.boolean(),
    nextRunAt: z.string().nullable(),
    lastRunAt: z.string().nullable(),
  })
  .meta({ id: 'ReportSchedule' });
const scheduleInput = z
  .object({
    frequency: z.enum(['daily', 'weekly', 'monthly', 'once']),
    weekdays: z
      .array(z.number().int().min(0).max(6))
      .max(7)
      .optional()
      .describe('weekly: 0 = Sunday … 6 = Saturday'),
    dayOfMonth: z
      .number()
      .int()
      .min(1)
      .max(31)
      .optional()
      .describe('monthly: the last day in shorter months'),
    onDate: z.string().max(10).optional().describe('once: YYYY-MM-DD'),
    timeUtc: z.string().max(5).optional().describe('HH:MM in UTC; 08:00 unless given'),
    recipientUserIds: z.array(z.number().int().positive()).max(200).optional(),
    recipientRoleIds: z.array(z.number().int().positive()).max(50).optional(),
    recipientEmails: z.array(z.email().max(254)).max(50).optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const presentSchedule = (s: Schedule) => ({ ...s, nextRunAt: iso(s.nextRunAt), lastRunAt: iso(s.lastRunAt) });
const idParams = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });
const cell = z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()]);
const column = z.object({ key: z.string(), label: z.string(), type: z.string() });

const savedReportSchema = z
  .object({
    id: z.number().int(),
    ownerId: z.number().int(),
    name: z.string(),
    description: z.string(),
    primaryModule: z.string(),
    definition: z.unknown(),
    visibility: z.enum(['private', 'shared', 'public']),
    sharedUserIds: z.array(z.number().int()),
    sharedRoleIds: z.array(z.number().int()),
    createdAt: z.string(),
    updatedAt: z.string(),
    editable: z.boolean(),
  })
  .meta({ id: 'SavedReport' });

const reportInput = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    definition: reportDefinitionSchema,
    visibility: z.enum(['private', 'shared', 'public']).optional(),
    sharedUserIds: z.array(z.number().int().positive()).max(200).optional(),
    sharedRoleIds: z.array(z.number().int().positive()).max(200).optional(),
  })
  .strict();

const resultSchema = z
  .object({
    columns: z.array(column),
    rows: z.array(z.array(cell)),
    totalRows: z.number().int(),
    totalRecords: z.number().int(),
    rowsPer: z
      .string()
      .nullable()
      .describe('set when the result has one row per record of a one-to-many source'),
    offset: z.number().int(),
    groupBy: z.array(column),
    aggregates: z.array(z.object({ key: z.string(), label: z.string(), fn: z.string() })),
    groups: z.array(
      z.object({
        level: z.number().int(),
        keys: z.array(cell),
        records: z.number().int(),
        values: z.array(z.union([z.number(), z.string(), z.null()])),
      }),
    ),
    totals: z.array(z.union([z.number(), z.string(), z.null()])),
  })
  .meta({ id: 'ReportResult' });

const page = {
  limit: z.number().int().min(1).max(SCREEN_ROW_LIMIT).optional(),
  offset: z.number().int().min(0).max(1_000_000_000).optional(),
};

function present(r: SavedReport) {
  return {
    ...r,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

const principalOf = (ctx: AppContext, req: FastifyRequest): Promise<Principal> =>
  principalFor(ctx, req.auth!.user);

export async function reportRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/reports',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Saved reports you may open: yours, shared with you or your role, and public ones',
        response: { 200: z.object({ items: z.array(savedReportSchema) }) },
      },
    },
    async (req) => ({ items: (await listReports(ctx, await principalOf(ctx, req))).map(present) }),
  );

  r.post(
    '/reports',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Save a report definition (you own it; private unless shared)',
        body: reportInput,
        response: { 201: savedReportSchema },
      },
    },
    async (req, reply) => {
      const saved = await createReport(ctx, await principalOf(ctx, req), actorFromRequest(req), req.body);
      return reply.code(201).send(present(saved));
    },
  );

  r.get(
    '/reports/sources/:module',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'What a report on a module can use: its fields and its declared relations',
        params: z.object({ module: z.string().min(1).max(64) }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                name: z.string(),
                module: z.string(),
                label: z.string(),
                from: z.string().nullable(),
                via: z.string().nullable(),
                cardinality: z.enum(['primary', 'one', 'many']),
                fields: z.array(
                  z.object({ name: z.string(), label: z.string(), type: z.string(), masked: z.boolean() }),
                ),
              }),
            ),
          }),
        },
      },
    },
    async (req) => ({ items: await reportSources(ctx, await principalOf(ctx, req), req.params.module) }),
  );

  r.post(
    '/reports/run',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Run a report definition without saving it',
        body: z.object({ definition: reportDefinitionSchema, ...page }).strict(),
        response: { 200: resultSchema },
      },
    },
    async (req) =>
      runReport(ctx, await principalOf(ctx, req), req.body.definition, {
        limit: req.body.limit,
        offset: req.body.offset,
      }),
  );

  r.get(
    '/reports/:id',
    {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'A saved report', params: idParams, response: { 200: savedReportSchema } },
    },
    async (req) => present(await getReport(ctx, await principalOf(ctx, req), req.params.id)),
  );

  r.patch(
    '/reports/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Change a saved report (its owner or an admin)',
        params: idParams,
        body: reportInput.partial(),
        response: { 200: savedReportSchema },
      },
    },
    async (req) =>
      present(
        await updateReport(ctx, await principalOf(ctx, req), actorFromRequest(req), req.params.id, req.body),
      ),
  );

  r.delete(
    '/reports/:id',
    {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'Delete a saved report (its owner or an admin)', params: idParams },
    },
    async (req, reply) => {
      await deleteReport(ctx, await principalOf(ctx, req), actorFromRequest(req), req.params.id);
      return reply.code(204).send();
    },
  );

  r.post(
    '/reports/:id/run',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Run a saved report as you: the rows, groups and totals your sharing and masking allow',
        params: idParams,
        body: z.object(page).strict().nullish(),
        response: { 200: resultSchema },
      },
    },
    async (req) => {
      const p = await principalOf(ctx, req);
      const saved = await getReport(ctx, p, req.params.id);
      return runReport(ctx, p, saved.definition, { limit: req.body?.limit, offset: req.body?.offset });
    },
  );

  r.get(
    '/reports/:id/export.csv',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Every row of a saved report as CSV (streamed), as you may see it',
        params: idParams,
        querystring: z.object({
          bom: z.enum(['true', 'false']).optional().describe('start with a UTF-8 byte order mark (Excel)'),
        }),
        produces: ['text/csv'],
      },
    },
    async (req, reply) => {
      const p = await principalOf(ctx, req);
      const saved = await getReport(ctx, p, req.params.id);
      const { columns, chunks } = await openReportRows(ctx, p, saved.definition);
      // the first chunk is read before answering (it is where the sorting happens), so a report that runs
      // too long is a clear 503 instead of a download cut short
      const source = chunks();
      const first = await source.next();
      const csv = stringify({
        bom: req.query.bom === 'true',
        header: true,
        columns: columns.map((c) => c.label),
      });
      const rows = Readable.from(
        (async function* () {
          try {
            if (first.done) return;
            for (const row of first.value) yield row.map(csvCell);
            for await (const chunk of source) for (const row of chunk) yield row.map(csvCell);
          } finally {
            // a client that goes away ends the statement (and frees its report worker)
            await source.return(undefined);
          }
        })(),
      );
      rows.on('error', (err) => csv.destroy(err));
      rows.pipe(csv);
      const filename = `${saved.name.replace(/[^A-Za-z0-9 _-]/g, '').trim() || 'report'}.csv`;
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(csv);
    },
  );

  r.get(
    '/reports/:id/schedules',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: "A report's delivery schedules",
        params: idParams,
        response: { 200: z.object({ items: z.array(scheduleSchema) }) },
      },
    },
    async (req) => ({
      items: (await listSchedules(ctx, await principalOf(ctx, req), req.params.id)).map(presentSchedule),
    }),
  );

  r.post(
    '/reports/:id/schedules',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary:
          'E-mail the report as CSV on a schedule (owner or admin). Each user recipient gets it as they would see it; addresses get it as the owner sees it; empty results are not sent.',
        params: idParams,
        body: scheduleInput,
        response: { 201: scheduleSchema },
      },
    },
    async (req, reply) => {
      const s = await createSchedule(
        ctx,
        await principalOf(ctx, req),
        actorFromRequest(req),
        req.params.id,
        req.body,
      );
      return reply.code(201).send(presentSchedule(s));
    },
  );

  r.delete(
    '/reports/:id/schedules/:scheduleId',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Stop a delivery schedule (owner or admin)',
        params: idParams.extend({ scheduleId: z.coerce.number().int().positive().max(2_147_483_647) }),
      },
    },
    async (req, reply) => {
      await deleteSchedule(
        ctx,
        await principalOf(ctx, req),
        actorFromRequest(req),
        req.params.id,
        req.params.scheduleId,
      );
      return reply.code(204).send();
    },
  );
}
