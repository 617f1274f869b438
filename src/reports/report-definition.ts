import { z } from 'zod';
import { FILTER_OPS } from '../records/record-filter.js';

/**
 * A report definition. Fields are named `<source>.<field>`: the source is the primary module's name or a
 * related source's `name` (its module name unless given), e.g. `Quotes.hdnGrandTotal`, `Accounts.accountname`,
 * `LineItems.quantity`. Everything is checked against module metadata when the report is compiled.
 */
export const MAX_RELATED = 3;
export const MAX_COLUMNS = 50;
export const MAX_GROUPS = 3;
export const MAX_SORT = 3;
export const MAX_AGGREGATES = 20;
export const MAX_FILTER_DEPTH = 5;
export const MAX_FILTER_CONDITIONS = 50;

export const REPORT_TYPES = ['detail', 'summary', 'matrix'] as const;
export const CHART_TYPES = ['bar', 'hbar', 'line', 'pie'] as const;
export const AGGREGATE_FNS = ['count', 'sum', 'avg', 'min', 'max'] as const;
/** a record filter's operators, and `period` (a named date range) */
export const REPORT_FILTER_OPS = [...FILTER_OPS, 'period'] as const;
export const PERIODS = [
  'today',
  'yesterday',
  'this_week',
  'last_week',
  'this_month',
  'last_month',
  'this_quarter',
  'this_year',
  'last_year',
  'last_7_days',
  'last_30_days',
  'next_30_days',
] as const;
export type Period = (typeof PERIODS)[number];

const fieldRef = z
  .string()
  .min(3)
  .max(130)
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}\.[A-Za-z][A-Za-z0-9_]{0,63}$/, 'write a field as Source.field')
  .describe('`<source>.<field>`, e.g. `Quotes.hdnGrandTotal` or `LineItems.quantity`');

export type ReportCondition = { field: string; op: (typeof REPORT_FILTER_OPS)[number]; value?: unknown };
export type ReportFilter = ReportCondition | { and: ReportFilter[] } | { or: ReportFilter[] };

const condition = z.object({
  field: fieldRef,
  op: z.enum(REPORT_FILTER_OPS),
  value: z
    .union([
      z.string().max(1000),
      z.number(),
      z.boolean(),
      z.null(),
      z.array(z.union([z.string().max(1000), z.number(), z.null()])).max(100),
    ])
    .optional(),
});

// depth is checked by the compiler (a 100-deep body is refused there with a clear message, not a stack overflow)
export const reportFilterSchema: z.ZodType<ReportFilter> = z.lazy(() =>
  z.union([
    condition,
    z.object({ and: z.array(reportFilterSchema).max(MAX_FILTER_CONDITIONS) }).strict(),
    z.object({ or: z.array(reportFilterSchema).max(MAX_FILTER_CONDITIONS) }).strict(),
  ]),
);

export const relatedSchema = z
  .object({
    module: z
      .string()
      .min(1)
      .max(64)
      .describe('the related module, or `LineItems` (the lines of a Quotes source)'),
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/)
      .optional()
      .describe('how fields of this source are named; defaults to the module name'),
    from: z.string().max(64).optional().describe('the source it is reached from; defaults to the primary'),
    via: z
      .string()
      .max(64)
      .optional()
      .describe(
        'the reference field: on the `from` source (many-to-one, e.g. Quotes.account_id → Accounts) or on this module (one-to-many, e.g. Contacts.account_id ← Accounts)',
      ),
  })
  .strict();

export const aggregateSchema = z
  .object({
    fn: z.enum(AGGREGATE_FNS),
    field: fieldRef.optional().describe('omitted for count: the number of primary records'),
  })
  .strict();

export const reportDefinitionSchema = z
  .object({
    type: z.enum(REPORT_TYPES).default('detail'),
    primary: z.string().min(1).max(64),
    related: z.array(relatedSchema).max(MAX_RELATED).default([]),
    columns: z.array(fieldRef).max(MAX_COLUMNS).default([]),
    filter: reportFilterSchema.optional(),
    groupBy: z.array(fieldRef).max(MAX_GROUPS).default([]),
    aggregates: z.array(aggregateSchema).max(MAX_AGGREGATES).default([]),
    sort: z
      .array(z.object({ field: fieldRef, desc: z.boolean().default(false) }).strict())
      .max(MAX_SORT)
      .default([]),
    chart: z
      .object({
        type: z.enum(CHART_TYPES),
        aggregates: z.array(z.number().int().min(0)).min(1).max(3).optional(),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .strict()
  .meta({ id: 'ReportDefinition' });

export type ReportDefinition = z.output<typeof reportDefinitionSchema>;
export type ReportDefinitionInput = z.input<typeof reportDefinitionSchema>;
