import type { Kysely, Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import type { Principal } from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';
import type { ModuleMeta } from './module-meta.js';
import { parseLineItems, quoteTotals } from './quote-line-items.js';
import { selectLineItems } from './quote-line-items.repository.js';
import { recordError } from './record.errors.js';
import type { CrmRecord, LineItem } from './record.model.js';
import { moduleColumns, updateModuleRow } from './record.repository.js';
import { visibleIds } from './record-access.js';

/** Quotes: line items ride along with the record; products must be visible, prices default to the product's. */
export async function withLineItems(
  db: Kysely<Database> | Transaction<Database>,
  meta: ModuleMeta,
  recs: CrmRecord[],
): Promise<CrmRecord[]> {
  if (!meta.hasLineItems || recs.length === 0) return recs;
  const items = await selectLineItems(
    db,
    recs.map((r) => r.id),
  );
  for (const r of recs) r.lineItems = items.get(r.id) ?? [];
  return recs;
}

export async function resolveLineItems(ctx: AppContext, p: Principal, raw: unknown) {
  const items = parseLineItems(raw);
  const ids = items.map((i) => i.productId);
  const visible = await visibleIds(ctx.db.kysely, p, ids, ['Products']);
  const missing = ids.find((id) => !visible.has(id));
  if (missing !== undefined)
    throw recordError('LINE_ITEM_INVALID', `lineItems: there is no Product ${missing} that you can see.`);
  const prices = ids.length
    ? ((await ctx.db.kysely
        .selectFrom('crm_products' as never)
        .select(['id', 'unit_price'] as never)
        .where('id' as never, 'in', ids as never)
        .execute()) as Array<{ id: number; unit_price: number | null }>)
    : [];
  return items.map((it) => ({
    ...it,
    listprice: it.listprice ?? Number(prices.find((x) => x.id === it.productId)?.unit_price ?? 0),
  }));
}

export function lineItemsInput(input: Record<string, unknown>): unknown {
  return input.lineItems ?? input.LineItems;
}

/** The quote's totals for its lines, written to its row; returns them for the caller's copy of the record. */
export async function writeTotals(
  trx: Transaction<Database>,
  meta: ModuleMeta,
  id: number,
  values: ReadonlyMap<string, FieldValue>,
  lines: readonly LineItem[],
): Promise<Map<string, FieldValue>> {
  const totals = quoteTotals(
    lines.map((l) => l.netPrice),
    values,
  );
  await updateModuleRow(trx, meta, id, moduleColumns(meta, totals));
  return totals;
}
