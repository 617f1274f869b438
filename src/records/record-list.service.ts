import type { Expression, SqlBool } from 'kysely';
import type { AppContext } from '../context.js';
import type { Principal } from '../roles/permissions.js';
import { toColumn } from './field-coerce.js';
import { type ModuleMeta, type ModuleRef, resolveModule } from './module-meta.js';
import { withLineItems } from './quote-line-items.service.js';
import type { CrmRecord } from './record.model.js';
import { countRecords as countRows, selectRecords } from './record.repository.js';
import { requireModule, scopeFor } from './record-access.js';
import { compileFilter, type RecordFilter } from './record-filter.js';
import { scopeCondition } from './record-scope.js';
import {
  afterCursor,
  decodeCursor,
  encodeCursor,
  orderExpressions,
  parseSort,
  type SortKey,
} from './record-sort.js';

export const MAX_PAGE_SIZE = 200;

export interface ListOptions {
  filter?: RecordFilter;
  /** `-modifiedtime,lastname`, or parsed keys */
  sort?: string | SortKey[];
  limit?: number;
  /** opaque keyset cursor from a previous page's nextCursor */
  cursor?: string;
  /** plain offset, for VTQL's `LIMIT offset, n`; do not combine with a cursor */
  offset?: number;
}

export interface RecordPage {
  items: CrmRecord[];
  nextCursor: string | null;
}

async function conditions(ctx: AppContext, p: Principal, meta: ModuleMeta, filter?: RecordFilter) {
  requireModule(p, meta, 'view');
  const where: Expression<SqlBool>[] = [];
  const scope = scopeCondition(await scopeFor(ctx, p, meta.name, 'view'));
  if (scope) where.push(scope);
  if (filter) where.push(compileFilter(meta, filter));
  return where;
}

const specOf = (keys: SortKey[]) => keys.map((k) => (k.desc ? '-' : '') + k.field).join(',');

/** The records of a module the caller may see, filtered and sorted, one keyset page at a time. */
export async function listRecords(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  opts: ListOptions = {},
): Promise<RecordPage> {
  const meta = await resolveModule(ctx.db.kysely, module);
  const where = await conditions(ctx, p, meta, opts.filter);
  const keys =
    typeof opts.sort === 'string' || opts.sort === undefined ? parseSort(meta, opts.sort) : opts.sort;
  const spec = specOf(keys);
  const valueKeys = keys.filter((k) => k.field !== 'id');
  if (opts.cursor) where.push(afterCursor(meta, keys, decodeCursor(opts.cursor, spec, valueKeys.length)));
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), MAX_PAGE_SIZE);
  const rows = await selectRecords(ctx.db.kysely, meta, where, {
    order: orderExpressions(meta, keys),
    limit: limit + 1,
    offset: opts.offset,
  });
  const items = await withLineItems(ctx, meta, rows.slice(0, limit));
  const last = items[items.length - 1];
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
  return { items, nextCursor };
}

/** How many records of the module the caller may see (and match the filter). */
export async function countRecords(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  filter?: RecordFilter,
): Promise<number> {
  const meta = await resolveModule(ctx.db.kysely, module);
  return countRows(ctx.db.kysely, meta, await conditions(ctx, p, meta, filter));
}
