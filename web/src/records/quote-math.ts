/**
 * The server's quote arithmetic (src/records/quote-line-items.ts: netPrice, quoteTotals), repeated here so
 * the editor's totals update as the user types; the browser test checks they equal what the server stores.
 */
const round2 = (n: number) => Math.round(n * 100) / 100;

export interface LineMath {
  quantity: number;
  listprice: number;
  discountPercent: number | null;
  discountAmount: number | null;
}

export function lineNet(l: LineMath): number {
  const gross = l.quantity * l.listprice;
  if (l.discountPercent !== null) return round2(gross - (gross * l.discountPercent) / 100);
  return round2(gross - (l.discountAmount ?? 0));
}

export interface QuoteAdjustments {
  discountPercent: number | null;
  discountAmount: number | null;
  shipping: number | null;
  adjustment: number | null;
}

export function quoteTotals(nets: number[], q: QuoteAdjustments) {
  const subTotal = round2(nets.reduce((a, b) => a + b, 0));
  const discount =
    q.discountPercent !== null ? (subTotal * q.discountPercent) / 100 : (q.discountAmount ?? 0);
  const preTax = round2(subTotal - discount + (q.shipping ?? 0));
  const grand = round2(preTax + (q.adjustment ?? 0));
  return { subTotal, discount: round2(discount), preTax, grand };
}

/** A number typed in a form field, or null when it is blank or not a number. */
export function typedNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || v.trim() === '') return null;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : null;
}
