import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { type CheckedLineItem, netPrice } from './quote-line-items.js';
import type { LineItem } from './record.model.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Replaces a quote's line items with one INSERT; returns them as stored (ids included), in order. */
export async function replaceLineItems(
  trx: Transaction<Database>,
  quoteId: number,
  items: Array<CheckedLineItem & { listprice: number }>,
): Promise<LineItem[]> {
  await trx.deleteFrom('quote_line_items').where('quote_id', '=', quoteId).execute();
  if (items.length === 0) return [];
  const lines = items.map((it, i) => ({ ...it, sequenceNo: i + 1, netPrice: netPrice(it) }));
  const rows = await trx
    .insertInto('quote_line_items')
    .values(
      lines.map((it) => ({
        quote_id: quoteId,
        sequence_no: it.sequenceNo,
        product_id: it.productId,
        quantity: it.quantity,
        listprice: it.listprice,
        discount_percent: it.discountPercent,
        discount_amount: it.discountAmount,
        comment: it.comment,
        net_price: it.netPrice,
      })),
    )
    .returning('id')
    .execute();
  // ids are assigned in VALUES order; RETURNING's own order is not promised
  const ids = rows.map((r) => r.id).sort((a, b) => a - b);
  return lines.map((it, i) => ({
    id: ids[i]!,
    sequenceNo: it.sequenceNo,
    productId: it.productId,
    quantity: it.quantity,
    listprice: it.listprice,
    discountPercent: it.discountPercent,
    discountAmount: it.discountAmount,
    comment: it.comment,
    netPrice: it.netPrice,
  }));
}

export async function selectLineItems(db: Q, quoteIds: number[]): Promise<Map<number, LineItem[]>> {
  const out = new Map<number, LineItem[]>();
  if (quoteIds.length === 0) return out;
  const rows = await db
    .selectFrom('quote_line_items')
    .selectAll()
    .where('quote_id', 'in', quoteIds)
    .orderBy('quote_id')
    .orderBy('sequence_no')
    .execute();
  for (const r of rows) {
    const list = out.get(r.quote_id) ?? [];
    list.push({
      id: r.id,
      sequenceNo: r.sequence_no,
      productId: r.product_id,
      quantity: Number(r.quantity),
      listprice: Number(r.listprice),
      discountPercent: r.discount_percent === null ? null : Number(r.discount_percent),
      discountAmount: r.discount_amount === null ? null : Number(r.discount_amount),
      comment: r.comment,
      netPrice: Number(r.net_price),
    });
    out.set(r.quote_id, list);
  }
  return out;
}
