import type { AppContext } from '../context.js';
import { masksFor } from '../masking/masking-cache.js';
import { type LiteralEntry, literalFunction } from '../platform/object-literal.js';
import type { Principal } from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';
import type { ModuleMeta } from './module-meta.js';
import { recordError } from './record.errors.js';
import type { CrmRecord, LineItem } from './record.model.js';
import { recordLabel } from './record-input.js';

/** How a masked field's value reaches a viewer who may not read it. */
export interface FieldMask {
  mask(value: FieldValue): string;
  /** whether a value sent in has the shape of this field's mask: a placeholder, never a real value */
  isPlaceholder(value: string): boolean;
}

/**
 * What one viewer may see and use of one module's records: the only input to presenting records,
 * compiling filters, sorts and cursors, and describing the module. Built per request by `moduleViewFor`.
 */
export interface ModuleView {
  readonly meta: ModuleMeta;
  readonly principal: Principal;
  /** the fields masked for this viewer, by name */
  readonly masked: ReadonlyMap<string, FieldMask>;
}

declare const presented: unique symbol;

/**
 * A record as one viewer may see it. Only `presentRecord` makes one, and every channel's formatter (REST,
 * web services, webhooks, exports, reports) takes only these: a stored record cannot leave unpresented.
 */
export type PresentedRecord = Readonly<Omit<CrmRecord, 'fields' | 'lineItems'>> & {
  readonly fields: Readonly<Record<string, FieldValue>>;
  readonly lineItems?: readonly LineItem[];
  /** the fields shown masked, when any */
  readonly masked?: readonly string[];
  readonly [presented]: true;
};

/**
 * The viewer's view of a module. Masking rules plug in here and nowhere else: the fields masked for the
 * viewer's role (module-level rules mask for everyone, admins included), from the permission cache.
 */
export async function moduleViewFor(
  ctx: AppContext,
  principal: Principal,
  meta: ModuleMeta,
): Promise<ModuleView> {
  return { meta, principal, masked: await masksFor(ctx, principal, meta) };
}

/** What a filter, search, sort, group or cursor may use; a masked field would be an oracle for its value. */
export type FieldUse = 'filter' | 'sort' | 'group';

export function assertFieldUsable(view: ModuleView, field: string, use: FieldUse): void {
  if (view.masked.has(field))
    throw recordError('FIELD_MASKED', `${field} is masked for you, so you cannot ${use} by it.`, {
      details: { field, use },
    });
}

/** One stored value as the viewer may see it (history, reports). */
export function presentValue(view: ModuleView, field: string, value: FieldValue): FieldValue {
  const mask = view.masked.get(field);
  return mask && value !== null && value !== '' ? mask.mask(value) : value;
}

type FieldsBuilder = (
  f: Readonly<Record<string, FieldValue>>,
  masks: readonly FieldMask[],
  hide: typeof maskOne,
) => Record<string, FieldValue>;

const maskOne = (m: FieldMask, v: FieldValue | undefined): FieldValue | undefined =>
  v === null || v === undefined || v === '' ? v : m.mask(v);

/** Compiled per (module metadata, mask set); both are long-lived (the mask set is memoised per role). */
const builders = new WeakMap<ModuleMeta, WeakMap<ReadonlyMap<string, FieldMask>, FieldsBuilder>>();

/**
 * A function that copies a record's fields with the masked ones replaced, as one object literal (the keys a
 * stored record has: module fields, then the entity fields). Spreading a 40-field object built property by
 * property costs about ten times more, per record of every list (`literalFunction`).
 */
function fieldsBuilder(meta: ModuleMeta, masked: ReadonlyMap<string, FieldMask>): FieldsBuilder {
  let byMasks = builders.get(meta);
  if (!byMasks) {
    byMasks = new WeakMap();
    builders.set(meta, byMasks);
  }
  let build = byMasks.get(masked);
  if (!build) {
    const names = [...masked.keys()];
    const keys = [
      ...meta.fields.filter((f) => f.storage === 'module'),
      ...meta.fields.filter((f) => f.storage !== 'module'),
    ].map((f) => f.name);
    build = literalFunction<FieldsBuilder>(
      ['f', 'm', 'hide'],
      keys.map((name): LiteralEntry => {
        const i = names.indexOf(name);
        return [name, (k) => (i < 0 ? `f[${k}]` : `hide(m[${i}], f[${k}])`)];
      }),
    );
    byMasks.set(masked, build);
  }
  return build;
}

/** A stored record as the viewer may see it: masked fields replaced, and the label rebuilt without them. */
export function presentRecord(view: ModuleView, rec: CrmRecord): PresentedRecord {
  return view.masked.size === 0 ? (rec as unknown as PresentedRecord) : presenter(view)(rec);
}

/**
 * Records just read, as the viewer may see them. It takes the records over: their fields are masked in
 * place, not copied (a page of 100 contacts copied 48 fields a record, a third of what masking cost). The
 * callers pass what `selectRecords` has just answered; a record anyone else holds goes to `presentRecord`.
 */
export function presentRecords(view: ModuleView, recs: CrmRecord[]): PresentedRecord[] {
  if (view.masked.size === 0) return recs as unknown as PresentedRecord[];
  const present = presenter(view, true);
  return recs.map(present);
}

/**
 * Masks records for one view: what depends on the view only is looked up once, not per record. `owned`:
 * the records' fields may be masked in place.
 */
function presenter(view: ModuleView, owned = false): (rec: CrmRecord) => PresentedRecord {
  // records taken over are masked in place: no copy, so no builder
  const build = owned ? null : fieldsBuilder(view.meta, view.masked);
  const masks = [...view.masked.values()];
  const names = [...view.masked.keys()];
  const labelMasked = view.meta.labelFields.some((f) => view.masked.has(f));
  return (rec) => {
    const masked: string[] = [];
    const fields = build ? build(rec.fields, masks, maskOne) : rec.fields;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const v = rec.fields[name];
      if (v === null || v === undefined || v === '') continue;
      masked.push(name);
      if (!build) fields[name] = masks[i]!.mask(v);
    }
    const label = labelMasked ? recordLabel(view.meta, new Map(Object.entries(fields))) : rec.label;
    // every property by name: a spread with overrides took V8's slow path, ~700 ns a record against ~20
    const out: { [K in keyof Required<CrmRecord>]: unknown } & { masked: string[] } = {
      id: rec.id,
      module: rec.module,
      version: rec.version,
      label,
      ownerId: rec.ownerId,
      createdBy: rec.createdBy,
      modifiedBy: rec.modifiedBy,
      createdAt: rec.createdAt,
      modifiedAt: rec.modifiedAt,
      deletedAt: rec.deletedAt,
      fields,
      lineItems: rec.lineItems,
      masked,
    };
    return out as unknown as PresentedRecord;
  };
}

/**
 * Write input without masked placeholders: a form or an integration saving what it read, or copying it into
 * a new record, sends placeholders back for the fields masked for it. On an update (`stored` given) such a
 * field keeps its stored value: the placeholder of the stored value, or anything shaped like a mask (copied
 * from another record, or masked under an earlier pattern). On a create (`stored` null) the field is left
 * out, as if not sent. Validation never sees a placeholder; any other value is a new value, written as usual.
 * `dropped` names the fields whose placeholder was left out, for a clearer error when one is mandatory.
 */
export function withMaskedPlaceholdersKept(
  view: ModuleView,
  stored: CrmRecord | null,
  input: Record<string, unknown>,
): { input: Record<string, unknown>; dropped: string[] } {
  const dropped: string[] = [];
  if (view.masked.size === 0) return { input, dropped };
  let out = input;
  for (const [name, mask] of view.masked) {
    if (!Object.hasOwn(input, name)) continue;
    const sent = input[name];
    if (sent === null || sent === undefined || sent === '') continue;
    const text = Array.isArray(sent) ? sent.join(', ') : String(sent);
    const real = stored ? (stored.fields[name] ?? null) : null;
    const shown = stored ? presentValue(view, name, real) : null;
    if (!(shown !== null && text === String(shown)) && !mask.isPlaceholder(text)) continue;
    if (out === input) out = { ...input };
    if (stored) out[name] = real;
    else {
      delete out[name];
      dropped.push(name);
    }
  }
  return { input: out, dropped };
}
