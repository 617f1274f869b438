import type { FieldValue } from './field-coerce.js';
import { recordError } from './record.errors.js';
import type { LineItemInput } from './record.model.js';

const MAX_LINE_ITEMS = 500;
const round2 = (n: number) => Math.round(n * 100) / 100;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export interface CheckedLineItem {
  productId: number;
  quantity: number;
  listprice: number | null;
  discountPercent: number | null;
  discountAmount: number | null;
  comment: string | null;
}

/** Validates `lineItems` input; product visibility and default prices are checked by the service. */
export function parseLineItems(raw: unknown): CheckedLineItem[] {
  if (!Array.isArray(raw)) throw recordError('LINE_ITEM_INVALID', 'lineItems must be a list.');
  if (raw.length > MAX_LINE_ITEMS)
    throw recordError('LINE_ITEM_INVALID', `A quote may have at most ${MAX_LINE_ITEMS} line items.`);
  return raw.map((item, i) => {
    const where = `lineItems[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw recordError('LINE_ITEM_INVALID', `${where} must be an object.`);
    const it = item as Partial<Record<keyof LineItemInput, unknown>>;
    const productId =
      typeof it.product_id === 'string' && /^\d{1,15}$/.test(it.product_id)
        ? Number(it.product_id)
        : it.product_id;
    if (!Number.isSafeInteger(productId) || (productId as number) <= 0)
      throw recordError('LINE_ITEM_INVALID', `${where}.product_id must be the id of a product.`);
    const n = (k: keyof LineItemInput) => (typeof it[k] === 'string' && it[k] !== '' ? Number(it[k]) : it[k]);
    const quantity = num(n('quantity'));
    if (quantity === null || quantity <= 0 || quantity >= 1e9)
      throw recordError('LINE_ITEM_INVALID', `${where}.quantity must be a number above 0.`);
    const listprice = it.listprice === undefined || it.listprice === null ? null : num(n('listprice'));
    if (listprice !== null && (listprice < 0 || listprice >= 1e12))
      throw recordError('LINE_ITEM_INVALID', `${where}.listprice must be 0 or more.`);
    if (it.listprice !== undefined && it.listprice !== null && listprice === null)
      throw recordError('LINE_ITEM_INVALID', `${where}.listprice must be a number.`);
    const discountPercent =
      it.discount_percent == null || it.discount_percent === '' ? null : num(n('discount_percent'));
    if (discountPercent !== null && (discountPercent < 0 || discountPercent > 100))
      throw recordError('LINE_ITEM_INVALID', `${where}.discount_percent must be between 0 and 100.`);
    if (it.discount_percent != null && it.discount_percent !== '' && discountPercent === null)
      throw recordError('LINE_ITEM_INVALID', `${where}.discount_percent must be a number.`);
    const discountAmount =
      it.discount_amount == null || it.discount_amount === '' ? null : num(n('discount_amount'));
    if (
      it.discount_amount != null &&
      it.discount_amount !== '' &&
      (discountAmount === null || discountAmount < 0)
    )
      throw recordError('LINE_ITEM_INVALID', `${where}.discount_amount must be a number, 0 or more.`);
    if (
      it.comment != null &&
      (typeof it.comment !== 'string' || it.comment.length > 65_535 || it.comment.includes('\0'))
    )
      throw recordError('LINE_ITEM_INVALID', `${where}.comment must be text.`);
    return {
      productId: productId as number,
      quantity,
      listprice,
      discountPercent,
      discountAmount,
      comment: (it.comment as string | null | undefined) ?? null,
    };
  });
}

export function netPrice(item: {
  quantity: number;
  listprice: number;
  discountPercent: number | null;
  discountAmount: number | null;
}): number {
  const gross = item.quantity * item.listprice;
  if (item.discountPercent !== null) return round2(gross - (gross * item.discountPercent) / 100);
  return round2(gross - (item.discountAmount ?? 0));
}

/** The quote's computed totals from its line nets and its own discount, shipping and adjustment fields. */
export function quoteTotals(nets: number[], v: ReadonlyMap<string, FieldValue>): Map<string, FieldValue> {
  const subTotal = round2(nets.reduce((a, b) => a + b, 0));
  const pct = num(v.get('hdnDiscountPercent'));
  const discount = pct !== null ? (subTotal * pct) / 100 : (num(v.get('hdnDiscountAmount')) ?? 0);
  const preTax = round2(subTotal - discount + (num(v.get('hdnS_H_Amount')) ?? 0));
  const grand = round2(preTax + (num(v.get('txtAdjustment')) ?? 0));
  return new Map<string, FieldValue>([
    ['hdnSubTotal', subTotal],
    ['pre_tax_total', preTax],
    ['hdnGrandTotal', grand],
  ]);
}
