import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { type CheckedLineItem, netPrice } from './quote-line-items.js';
import type { LineItem } from './record.model.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Replaces a quote's line items; returns their net prices. */
export async function replaceLineItems(
  trx: Transaction<Database>,
  quoteId: number,
  items: Array<CheckedLineItem & { listprice: number }>,
): Promise<number[]> {
  await trx.deleteFrom('quote_line_items').where('quote_id', '=', quoteId).execute();
  const nets: number[] = [];
  for (const [i, it] of items.entries()) {
    const net = netPrice(it);
    nets.push(net);
    await trx
      .insertInto('quote_line_items')
      .values({
        quote_id: quoteId,
        sequence_no: i + 1,
        product_id: it.productId,
        quantity: it.quantity,
        listprice: it.listprice,
        discount_percent: it.discountPercent,
        discount_amount: it.discountAmount,
        comment: it.comment,
        net_price: net,
      })
      .execute();
  }
  return nets;
}

export async function lineNets(trx: Transaction<Database>, quoteId: number): Promise<number[]> {
  const rows = await trx
    .selectFrom('quote_line_items')
    .select('net_price')
    .where('quote_id', '=', quoteId)
    .execute();
  return rows.map((r) => Number(r.net_price));
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
