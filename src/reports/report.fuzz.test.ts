import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';

const RUNS = Number(process.env.RAPPORT_FUZZ_RUNS ?? 150);

const fields = fc.constantFrom(
  'Quotes.subject',
  'Quotes.hdnGrandTotal',
  'Quotes.quotestage',
  'Quotes.validtill',
  'Quotes.createdtime',
  'Quotes.assigned_user_id',
  'Quotes.id',
  'Quotes.nope',
  'Quotes.cf_12',
  'LineItems.quantity',
  'LineItems.comment',
  'LineItems.id',
  'Products.productname',
  'Products.unit_price',
  'Accounts.accountname',
  'Accounts.annual_revenue',
  'Contacts.lastname',
  'Ghost.field',
);
const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    'this_month',
    'last_30_days',
    '2026-01-31',
    '2026-01-31 10:00:00',
    '\0',
    '%_\\',
    "'; drop table reports; --",
  ),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null)), { maxLength: 4 }),
);
const condition = fc.record({
  field: fields,
  op: fc.constantFrom(
    'eq',
    'ne',
    'lt',
    'lte',
    'gt',
    'gte',
    'contains',
    'startswith',
    'in',
    'empty',
    'period',
  ),
  value,
});
const filter = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, condition, tie('and'), tie('or')),
  and: fc.record({ and: fc.array(tie('node'), { maxLength: 3 }) }),
  or: fc.record({ or: fc.array(tie('node'), { maxLength: 3 }) }),
})).node;
const related = fc.subarray([
  { module: 'LineItems' },
  { module: 'Products', from: 'LineItems', via: 'product_id' },
  { module: 'Accounts', via: 'account_id' },
  { module: 'Contacts', via: 'contact_id' },
]);
const definition = fc.record(
  {
    type: fc.constantFrom('detail', 'summary', 'matrix'),
    primary: fc.constantFrom('Quotes', 'Quotes', 'Accounts', 'LineItems', 'Nope'),
    related,
    columns: fc.array(fields, { maxLength: 4 }),
    filter,
    groupBy: fc.array(fields, { maxLength: 3 }),
    aggregates: fc.array(
      fc.record(
        { fn: fc.constantFrom('count', 'sum', 'avg', 'min', 'max'), field: fields },
        { requiredKeys: ['fn'] },
      ),
      { maxLength: 3 },
    ),
    sort: fc.array(fc.record({ field: fields, desc: fc.boolean() }), { maxLength: 3 }),
  },
  { requiredKeys: ['primary'] },
);

describeEachDialect('report definitions (fuzz)', (h) => {
  it('random definitions answer 200 or a 4xx naming the problem, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(definition, fc.integer({ min: 0, max: 5 }), async (def, offset) => {
        const res = await h.request({
          method: 'POST',
          url: '/api/v1/reports/run',
          as: h.admin,
          payload: { definition: def, offset, limit: 10 },
        });
        expect(res.statusCode, `${JSON.stringify(def)} → ${res.body}`).toBeLessThan(500);
        if (res.statusCode >= 400) expect(res.json().error.message.length).toBeGreaterThan(5);
      }),
      { numRuns: RUNS, seed: Number(process.env.RAPPORT_FUZZ_SEED ?? 13) || undefined },
    );
  }, 120_000);
});
