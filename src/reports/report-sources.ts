import type { AppContext } from '../context.js';
import type { FieldDef } from '../records/field.types.js';
import { moduleMetaFor } from '../records/module-meta.js';
import { viewModule } from '../records/record-read.service.js';
import { relationsOf } from '../records/record-relations.js';
import { canUseModule, type Principal } from '../roles/permissions.js';
import { LINE_ITEMS, LINE_ITEMS_META } from './report-compiler.js';

export interface ReportSourceOption {
  /** how its fields are named in a definition (`<name>.<field>`) */
  name: string;
  module: string;
  label: string;
  /** null for the primary module */
  from: string | null;
  via: string | null;
  /** 'many': one row per related record when its fields are shown (one-to-many) */
  cardinality: 'primary' | 'one' | 'many';
  fields: Array<{ name: string; label: string; type: string; masked: boolean }>;
}

const describe = (fields: readonly FieldDef[], masked: ReadonlyMap<string, unknown>) =>
  fields.map((f) => ({ name: f.name, label: f.label, type: f.type, masked: masked.has(f.name) }));

/** What a report on `primary` can draw from, for the builder: the declared relations the caller may see. */
export async function reportSources(
  ctx: AppContext,
  p: Principal,
  primary: string,
): Promise<ReportSourceOption[]> {
  const view = await viewModule(ctx, p, await moduleMetaFor(ctx, primary));
  const meta = view.meta;
  const out: ReportSourceOption[] = [
    {
      name: meta.name,
      module: meta.name,
      label: meta.label,
      from: null,
      via: null,
      cardinality: 'primary',
      fields: describe(meta.fields, view.masked),
    },
  ];
  const taken = new Set([meta.name]);
  const nameFor = (module: string, via: string) => {
    let name = taken.has(module) ? `${module}_${via}` : module;
    for (let n = 2; taken.has(name); n++) name = `${module}_${via}${n}`;
    taken.add(name);
    return name;
  };
  for (const f of meta.fields) {
    if (f.type !== 'reference' || f.storage !== 'module') continue;
    for (const target of f.refersTo ?? []) {
      if (target === 'Users' || !canUseModule(p, target, 'view')) continue;
      const tv = await viewModule(ctx, p, await moduleMetaFor(ctx, target));
      out.push({
        name: nameFor(target, f.name),
        module: target,
        label: `${tv.meta.singular} (${f.label})`,
        from: meta.name,
        via: f.name,
        cardinality: 'one',
        fields: describe(tv.meta.fields, tv.masked),
      });
    }
  }
  if (meta.hasLineItems) {
    out.push({
      name: LINE_ITEMS,
      module: LINE_ITEMS,
      label: 'Line Items',
      from: meta.name,
      via: null,
      cardinality: 'many',
      fields: describe(LINE_ITEMS_META.fields, new Map()),
    });
    if (canUseModule(p, 'Products', 'view')) {
      const pv = await viewModule(ctx, p, await moduleMetaFor(ctx, 'Products'));
      out.push({
        name: nameFor('Products', 'line'),
        module: 'Products',
        label: 'Product (of a line item)',
        from: LINE_ITEMS,
        via: 'product_id',
        cardinality: 'one',
        fields: describe(pv.meta.fields, pv.masked),
      });
    }
  }
  for (const rel of await relationsOf(ctx, p, meta.name)) {
    const tv = await viewModule(ctx, p, rel.target);
    for (const via of rel.fields)
      out.push({
        name: nameFor(rel.target.name, via),
        module: rel.target.name,
        label: `${rel.target.label} (by ${rel.target.fieldMap.get(via)?.label ?? via})`,
        from: meta.name,
        via,
        cardinality: 'many',
        fields: describe(rel.target.fields, tv.masked),
      });
  }
  return out;
}
