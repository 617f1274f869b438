import { z } from 'zod';
import { isoTimestamp } from '../platform/iso-time.js';
import { type LiteralEntry, literalFunction } from '../platform/object-literal.js';
import type { FieldDef } from './field.types.js';
import type { ModuleMeta } from './module-meta.js';
import type { PresentedRecord } from './record-presenter.js';

/** A record over REST: Vtiger field names, ids as numbers, datetimes as ISO 8601, plus id/version/label. */
export const restRecordSchema = z
  .object({ id: z.number().int(), version: z.number().int(), label: z.string() })
  .catchall(z.unknown())
  .meta({ id: 'Record', description: 'Fields by their Vtiger names as in describe; Quotes add lineItems.' });

/** Throws unless `data` has the fixed fields of `restRecordSchema` (the rest are its catchall's). */
function assertRestRecord(data: unknown): void {
  const r = data as { id?: unknown; version?: unknown; label?: unknown } | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    !Number.isInteger(r.id) ||
    !Number.isInteger(r.version) ||
    typeof r.label !== 'string'
  )
    throw new Error('record response does not match the Record schema');
}

/**
 * Response serializer for routes answering one `restRecordSchema`: `restRecord` builds the object, so
 * zod's generic pass (copying every catchall field) only re-checks what is already true. This checks the
 * fixed fields by hand and stringifies; the schema still documents the route in the OpenAPI document.
 */
export function restRecordSerializerCompiler() {
  return (data: unknown): string => {
    assertRestRecord(data);
    return JSON.stringify(data);
  };
}

/**
 * The same for routes answering a page of records, `{ items: Record[], …}`: each record is checked as above,
 * the rest of the answer by the route's own schema. zod's pass over the page copied every field of every
 * record: 14 % of the CPU of a 100-record list.
 */
export function recordPageSerializerCompiler({ schema }: { schema: unknown }) {
  const page = schema as z.ZodObject<{ items: z.ZodArray<typeof restRecordSchema> }>;
  const rest = page.omit({ items: true });
  return (data: unknown): string => {
    const { items, ...others } = data as { items?: unknown };
    if (!Array.isArray(items)) throw new Error('page response has no items array');
    for (const r of items) assertRestRecord(r);
    return JSON.stringify({ items, ...rest.parse(others) });
  };
}

type Build = (
  rec: PresentedRecord,
  f: PresentedRecord['fields'],
  iso: typeof isoTime,
) => Record<string, unknown>;

const isoTime = (v: unknown) => (typeof v === 'number' ? isoTimestamp(v) : (v ?? null));

/**
 * Builds, once per (frozen) module metadata, a function that makes the REST object of a record with one
 * object literal (`literalFunction`). Memo only: keys are held weakly.
 */
const builders = new WeakMap<ModuleMeta, Build>();

function restRecordBuilder(meta: ModuleMeta): Build {
  let build = builders.get(meta);
  if (!build) {
    build = literalFunction<Build>(
      ['rec', 'f', 'iso'],
      [
        ['id', () => 'rec.id'],
        ['version', () => 'rec.version'],
        ['label', () => 'rec.label'],
        ...meta.fields.map(
          (f): LiteralEntry => [f.name, (k) => (f.type === 'datetime' ? `iso(f[${k}])` : `f[${k}] ?? null`)],
        ),
      ],
    );
    builders.set(meta, build);
  }
  return build;
}

/** A presented record as REST sends it (only presented records: masking and sharing are already applied). */
export function restRecord(meta: ModuleMeta, rec: PresentedRecord): z.infer<typeof restRecordSchema> {
  const out = restRecordBuilder(meta)(rec, rec.fields, isoTime);
  if (rec.lineItems)
    out.lineItems = rec.lineItems.map((i) => ({
      id: i.id,
      sequence_no: i.sequenceNo,
      product_id: i.productId,
      quantity: i.quantity,
      listprice: i.listprice,
      discount_percent: i.discountPercent,
      discount_amount: i.discountAmount,
      comment: i.comment,
      net_price: i.netPrice,
    }));
  return out as z.infer<typeof restRecordSchema>;
}

export const fieldViewSchema = z
  .object({
    name: z.string(),
    label: z.string(),
    type: z.string(),
    mandatory: z.boolean(),
    editable: z.boolean(),
    custom: z.boolean(),
    picklistValues: z.array(z.string()).optional(),
    refersTo: z.array(z.string()).optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    masked: z
      .boolean()
      .optional()
      .describe('true when the field is masked for you: its values are placeholders, do not write them back'),
  })
  .meta({ id: 'FieldDescription' });

export function fieldView(f: FieldDef): z.infer<typeof fieldViewSchema> {
  return {
    name: f.name,
    label: f.label,
    type: f.type,
    mandatory: f.mandatory,
    editable: f.editable,
    custom: f.custom ?? false,
    ...(f.picklistValues ? { picklistValues: [...f.picklistValues] } : {}),
    ...(f.refersTo ? { refersTo: [...f.refersTo] } : {}),
    ...(f.default !== undefined ? { default: f.default } : {}),
  };
}

export const moduleSummarySchema = z
  .object({
    name: z.string(),
    label: z.string(),
    singular: z.string(),
    idPrefix: z.string(),
    createable: z.boolean(),
    updateable: z.boolean(),
    deleteable: z.boolean(),
    retrieveable: z.boolean(),
  })
  .meta({ id: 'ModuleSummary' });

export const moduleDescriptionSchema = moduleSummarySchema
  .extend({
    labelFields: z.array(z.string()),
    hasLineItems: z.boolean(),
    fields: z.array(fieldViewSchema),
    mayReveal: z
      .boolean()
      .optional()
      .describe('true when your profile grants Unmask: POST …/{id}/reveal shows one masked value (audited)'),
  })
  .meta({ id: 'ModuleDescription' });
