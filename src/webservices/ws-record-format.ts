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

type Build = (
  f: Readonly<Record<string, FieldValue>>,
  format: readonly Formatter[],
  modules: Map<number, string>,
  id: string,
  label: string,
) => WsRecord;

/** Per (frozen) module metadata, per field list: `wsRecordBuilder`'s function. Memo only: keys are held weakly. */
const builders = new WeakMap<ModuleMeta, Map<string, { build: Build; format: Formatter[] }>>();
/** distinct field lists kept per module (a VTQL column list is a query's own) */
const MAX_FIELD_LISTS = 64;

/**
 * A function that makes a record's web-service object as one generated object literal (its fields in the
 * given order, then `id`, then `label` when asked), as the REST view does: 40+ computed-key assignments per
 * record cost more than the formatting itself (`literalFunction`).
 */
function wsRecordBuilder(meta: ModuleMeta, chosen: readonly FieldDef[], withLabel: boolean) {
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
    const build = literalFunction<Build>(
      ['f', 'format', 'modules', 'id', 'label'],
      [
        ...chosen.map((f, i): LiteralEntry => [f.name, (k) => `format[${i}](f[${k}], modules)`]),
        ['id', () => 'id'],
        ...(withLabel ? [['label', () => 'label'] as const] : []),
      ],
    );
    b = { build, format: chosen.map(formatter) };
    byList.set(key, b);
  }
  return b;
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
  const modules = await referencedModules(ctx, meta, recs);
  const wanted = opts.fields ? new Set(opts.fields) : null;
  // a column list keeps the query's order, as the SQL Vtiger builds from it does
  const chosen = opts.fields ? opts.fields.flatMap((n) => meta.fieldMap.get(n) ?? []) : meta.fields;
  const { build, format } = wsRecordBuilder(meta, chosen, opts.withLabel !== false && !wanted);
  return recs.map((rec) => {
    const out = build(rec.fields, format, modules, formatWsId(meta.wsEntityId, rec.id), rec.label);
    if (rec.lineItems && !wanted) {
      out.LineItems = rec.lineItems.map((i) => ({
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
      }));
    }
    return out;
  });
}

export async function toWsRecord(ctx: AppContext, meta: ModuleMeta, rec: PresentedRecord): Promise<WsRecord> {
  return (await toWsRecords(ctx, meta, [rec]))[0]!;
}
