import type { AppContext } from '../context.js';
import { sqlDateTime } from '../platform/iso-time.js';
import { type LiteralEntry, literalFunction } from '../platform/object-literal.js';
import type { FieldDef } from '../records/field.types.js';
import type { FieldValue } from '../records/field-coerce.js';
import type { ModuleMeta } from '../records/module-meta.js';
import type { PresentedRecord } from '../records/record-presenter.js';
import { modulesOfRecords } from '../records/record-read.service.js';
import { USERS_WS_PREFIX } from './ws-deps.js';
import { formatWsId, prefixForModule } from './ws-ids.js';
import { PhpJson, phpJsonEncode, phpJsonObjectFunction } from './ws-json.js';

type WsRecord = Record<string, unknown>;

type Formatter = (v: FieldValue | undefined, refModules: Map<number, string>) => string;

/** One formatter per field, built once per field list (`wsRecordBuilder`) rather than per value. */
function formatter(field: FieldDef): Formatter {
  switch (field.type) {
    case 'boolean':
      return (v) => (v === null || v === undefined ? '' : v ? '1' : '0');
    case 'datetime': // Vtiger's datetime format, in UTC
      return (v) => (v === null || v === undefined ? '' : typeof v === 'number' ? sqlDateTime(v) : String(v));
    case 'multipicklist':
      return (v) => (v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' |##| ') : String(v));
    case 'owner':
      return (v) => (v === null || v === undefined ? '' : formatWsId(USERS_WS_PREFIX, Number(v)));
    case 'reference': {
      const targets = field.refersTo ?? [];
      const single = targets.length === 1 ? prefixForModule(targets[0]!) : undefined;
      return (v, refModules) => {
        if (v === null || v === undefined) return '';
        const target = targets.length === 1 ? undefined : refModules.get(Number(v));
        const prefix = single ?? (target ? prefixForModule(target) : undefined);
        return prefix === undefined ? '' : formatWsId(prefix, Number(v));
      };
    }
    default:
      return (v) => (v === null || v === undefined ? '' : String(v));
  }
}

/** The module of each referenced id whose field may point to several modules (one query for the batch). */
function referencedModules(
  ctx: AppContext,
  meta: ModuleMeta,
  recs: readonly PresentedRecord[],
): Promise<Map<number, string>> {
  const ids = new Set<number>();
  for (const field of meta.fields) {
    if (field.type !== 'reference' || (field.refersTo?.length ?? 0) <= 1) continue;
    for (const r of recs)
      if (typeof r.fields[field.name] === 'number') ids.add(r.fields[field.name] as number);
  }
  return modulesOfRecords(ctx, [...ids]);
}

type Write<T> = (
  f: Readonly<Record<string, FieldValue>>,
  format: readonly Formatter[],
  modules: Map<number, string>,
  id: string,
  label: string,
) => T;

interface Builder {
  build: Write<WsRecord>;
  /** the JSON `phpJsonEncode` writes for what `build` returns */
  json: Write<string>;
  format: Formatter[];
}

/** Per (frozen) module metadata, per field list: `wsRecordBuilder`'s functions. Memo only: keys are held weakly. */
const builders = new WeakMap<ModuleMeta, Map<string, Builder>>();
/** distinct field lists kept per module (a VTQL column list is a query's own) */
const MAX_FIELD_LISTS = 64;

/**
 * A function that makes a record's web-service object as one generated object literal (its fields in the
 * given order, then `id`, then `label` when asked), as the REST view does: 40+ computed-key assignments per
 * record cost more than the formatting itself (`literalFunction`). And one that writes the same object's
 * JSON without making it (`phpJsonObjectFunction`).
 */
function wsRecordBuilder(meta: ModuleMeta, chosen: readonly FieldDef[], withLabel: boolean): Builder {
  let byList = builders.get(meta);
  if (!byList) {
    byList = new Map();
    builders.set(meta, byList);
  }
  // every field (retrieve, SELECT *) needs no list of names for its key
  const names = chosen === meta.fields ? '*' : chosen.map((f) => f.name).join(',');
  const key = `${withLabel ? 1 : 0}|${names}`;
  let b = byList.get(key);
  if (!b) {
    if (byList.size >= MAX_FIELD_LISTS) byList.clear();
    const params = ['f', 'format', 'modules', 'id', 'label'];
    const entries: LiteralEntry[] = [
      ...chosen.map((f, i): LiteralEntry => [f.name, (k) => `format[${i}](f[${k}], modules)`]),
      ['id', () => 'id'],
      ...(withLabel ? [['label', () => 'label'] as const] : []),
    ];
    b = {
      build: literalFunction<Write<WsRecord>>(params, entries),
      json: phpJsonObjectFunction<Write<string>>(params, entries),
      format: chosen.map(formatter),
    };
    byList.set(key, b);
  }
  return b;
}

/** What the web-service formats below share: a record's object, or its JSON. */
async function wsRecordWriter(
  ctx: AppContext,
  meta: ModuleMeta,
  recs: readonly PresentedRecord[],
  opts: { fields?: string[]; withLabel?: boolean },
) {
  const modules = await referencedModules(ctx, meta, recs);
  // a column list keeps the query's order, as the SQL Vtiger builds from it does
  const chosen = opts.fields ? opts.fields.flatMap((n) => meta.fieldMap.get(n) ?? []) : meta.fields;
  const { build, json, format } = wsRecordBuilder(meta, chosen, opts.withLabel !== false && !opts.fields);
  const object = (rec: PresentedRecord): WsRecord => {
    const out = build(rec.fields, format, modules, formatWsId(meta.wsEntityId, rec.id), rec.label);
    if (rec.lineItems && !opts.fields) out.LineItems = rec.lineItems.map((i) => wsLineItem(meta, rec, i));
    return out;
  };
  return {
    object,
    json: (rec: PresentedRecord): string =>
      rec.lineItems && !opts.fields
        ? phpJsonEncode(object(rec))
        : json(rec.fields, format, modules, formatWsId(meta.wsEntityId, rec.id), rec.label),
  };
}

function wsLineItem(
  meta: ModuleMeta,
  rec: PresentedRecord,
  i: NonNullable<PresentedRecord['lineItems']>[number],
) {
  return {
    parent_id: formatWsId(meta.wsEntityId, rec.id),
    productid: formatWsId(prefixForModule('Products') ?? 14, i.productId),
    sequence_no: String(i.sequenceNo),
    quantity: String(i.quantity),
    listprice: String(i.listprice),
    discount_percent: i.discountPercent === null ? '' : String(i.discountPercent),
    discount_amount: i.discountAmount === null ? '' : String(i.discountAmount),
    comment: i.comment ?? '',
    netprice: String(i.netPrice),
    id: `${i.id}`,
  };
}

/**
 * Records as Vtiger sends them: every value a string (booleans "0"/"1", empty fields ""), references and
 * owners as `NxM`, then `id` and (unless `withLabel` is false, as in query rows) `label`.
 */
export async function toWsRecords(
  ctx: AppContext,
  meta: ModuleMeta,
  recs: readonly PresentedRecord[],
  opts: { fields?: string[]; withLabel?: boolean } = {},
): Promise<WsRecord[]> {
  const { object } = await wsRecordWriter(ctx, meta, recs, opts);
  return recs.map(object);
}

export async function toWsRecord(ctx: AppContext, meta: ModuleMeta, rec: PresentedRecord): Promise<WsRecord> {
  return (await toWsRecords(ctx, meta, [rec]))[0]!;
}

/**
 * `toWsRecords` as the JSON array `phpJsonEncode` writes for it, written without making the objects: a
 * query's page of ten Contacts is ~480 fields (stop 46).
 */
export async function wsRecordsJson(
  ctx: AppContext,
  meta: ModuleMeta,
  recs: readonly PresentedRecord[],
  opts: { fields?: string[]; withLabel?: boolean } = {},
): Promise<PhpJson> {
  const { json } = await wsRecordWriter(ctx, meta, recs, opts);
  let out = '[';
  for (let i = 0; i < recs.length; i++) out += (i > 0 ? ',' : '') + json(recs[i]!);
  return new PhpJson(`${out}]`);
}

/** `toWsRecord` as JSON (`wsRecordsJson`). */
export async function wsRecordJson(
  ctx: AppContext,
  meta: ModuleMeta,
  rec: PresentedRecord,
): Promise<PhpJson> {
  const { json } = await wsRecordWriter(ctx, meta, [rec], {});
  return new PhpJson(json(rec));
}
