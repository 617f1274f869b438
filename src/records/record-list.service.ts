import type { AppContext } from '../context.js';
import type { Principal } from '../roles/permissions.js';
import { toColumn } from './field-coerce.js';
import type { ModuleRef } from './module-meta.js';
import { withLineItems } from './quote-line-items.service.js';
import { selectRecords } from './record.repository.js';
import { compileFilter, type RecordFilter } from './record-filter.js';
import { type ModuleView, type PresentedRecord, presentRecords } from './record-presenter.js';
import { countMatching, viewModule, visibleQuery } from './record-read.service.js';
import { searchableFields, termsMatch } from './record-search-index.js';
import { afterCursor, decodeCursor, encodeCursor, orderExpressions, parseSort } from './record-sort.js';

export const MAX_PAGE_SIZE = 200;

export interface ListOptions {
  filter?: RecordFilter;
  /** words a person typed: each must start a word of one of the module's search fields (see `termsMatch`) */
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
  const { where, ownedBy } = await visibleQuery(ctx, view, conditions(ctx, view, opts.filter, opts.search));
  const keys = parseSort(view, opts.sort);
  const spec = keys.map((k) => (k.desc ? '-' : '') + k.field).join(',');
  const valueKeys = keys.filter((k) => k.field !== 'id');
  if (opts.cursor) where.push(afterCursor(meta, keys, decodeCursor(opts.cursor, spec, valueKeys.length)));
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), MAX_PAGE_SIZE);
  const rows = await selectRecords(ctx.db.kysely, meta, where, {
    order: orderExpressions(meta, keys),
    limit: limit + 1,
    ownedBy,
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
  return countMatching(ctx, view, conditions(ctx, view, filter, search));
}

function conditions(ctx: AppContext, view: ModuleView, filter?: RecordFilter, search?: string) {
  const out = filter ? [compileFilter(view, filter)] : [];
  if (search?.trim()) out.push(termsMatch(ctx.db.dialect, view.meta.name, searchFields(view), search));
  return out;
}

/**
 * The fields a list search (`q=`) looks in: those of the global search's index, without the fields masked
 * for the viewer (searching them would reveal their values).
 */
export function searchFields(view: ModuleView): string[] {
  return searchableFields(view.meta).filter((n) => !view.masked.has(n));
}
