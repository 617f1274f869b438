import type { AppContext } from '../context.js';
import type { Principal } from '../roles/permissions.js';
import { toColumn } from './field-coerce.js';
import type { ModuleRef } from './module-meta.js';
import { withLineItems } from './quote-line-items.service.js';
import { selectRecords } from './record.repository.js';
import { compileFilter, type RecordFilter } from './record-filter.js';
import { type ModuleView, type PresentedRecord, presentRecords } from './record-presenter.js';
import { countMatching, viewModule, visibleWhere } from './record-read.service.js';
import { afterCursor, decodeCursor, encodeCursor, orderExpressions, parseSort } from './record-sort.js';

export const MAX_PAGE_SIZE = 200;

export interface ListOptions {
  filter?: RecordFilter;
  /** words a person typed: each must appear in one of the module's search fields (see `searchFilter`) */
  search?: string;
  /** `-modifiedtime,lastname` */
  sort?: string;
  limit?: number;
  /** opaque keyset cursor from a previous page's nextCursor */
  cursor?: string;
}

export interface RecordPage {
  items: PresentedRecord[];
  nextCursor: string | null;
}

/**
 * The records of a module the caller may see, filtered and sorted, one keyset page at a time. The cursor
 * carries the last row's sort values: sort keys are fields the viewer may use, so never a masked value.
 */
export async function listRecords(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  opts: ListOptions = {},
): Promise<RecordPage> {
  const view = await viewModule(ctx, p, module);
  const { meta } = view;
  const where = await visibleWhere(ctx, view, conditions(view, opts.filter, opts.search));
  const keys = parseSort(view, opts.sort);
  const spec = keys.map((k) => (k.desc ? '-' : '') + k.field).join(',');
  const valueKeys = keys.filter((k) => k.field !== 'id');
  if (opts.cursor) where.push(afterCursor(meta, keys, decodeCursor(opts.cursor, spec, valueKeys.length)));
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), MAX_PAGE_SIZE);
  const rows = await selectRecords(ctx.db.kysely, meta, where, {
    order: orderExpressions(meta, keys),
    limit: limit + 1,
  });
  const page = await withLineItems(ctx.db.kysely, meta, rows.slice(0, limit));
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > limit && last
      ? encodeCursor({
          s: spec,
          v: valueKeys.map((k) => {
            const field = meta.fieldMap.get(k.field)!;
            const v = toColumn(field, last.fields[k.field] ?? null);
            return typeof v === 'number' || typeof v === 'string' ? v : null;
          }),
          id: last.id,
        })
      : null;
  return { items: presentRecords(view, page), nextCursor };
}

/** How many records of the module the caller may see (and match the filter). */
export async function countRecords(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  filter?: RecordFilter,
  search?: string,
): Promise<number> {
  const view = await viewModule(ctx, p, module);
  return countMatching(ctx, view, conditions(view, filter, search));
}

function conditions(view: ModuleView, filter?: RecordFilter, search?: string) {
  const out = filter ? [compileFilter(view, filter)] : [];
  const words = search ? searchFilter(view, search) : null;
  if (words) out.push(compileFilter(view, words));
  return out;
}

/** Text fields that name or identify a record beyond its label: a lead's company, a product's part number. */
const EXTRA_SEARCH_FIELDS = ['company', 'productcode', 'ticket_title', 'subject', 'accountname'];
export const MAX_SEARCH_WORDS = 6;

/**
 * The fields a list search looks in: the label fields, the record number, every email and phone field and a
 * few identifying text fields. Masked fields are left out (searching them would reveal their values).
 */
export function searchFields(view: ModuleView): string[] {
  const { meta } = view;
  const names = new Set<string>(meta.labelFields);
  if (meta.numberField) names.add(meta.numberField.name);
  for (const f of meta.fields) {
    if (f.type === 'email' || f.type === 'phone' || EXTRA_SEARCH_FIELDS.includes(f.name)) names.add(f.name);
  }
  return [...names].filter((n) => meta.fieldMap.has(n) && !view.masked.has(n));
}

/**
 * "jane doe" finds Jane Doe, "jane.doe" her email, "CON12" her number: every word (at most six) must be
 * contained, case-insensitively, in at least one search field. Blank input is no search.
 */
export function searchFilter(view: ModuleView, search: string): RecordFilter | null {
  const words = search.trim().split(/\s+/).filter(Boolean).slice(0, MAX_SEARCH_WORDS);
  const fields = searchFields(view);
  if (!words.length || !fields.length) return null;
  return {
    and: words.map((w) => ({ or: fields.map((field) => ({ field, op: 'contains' as const, value: w })) })),
  };
}
