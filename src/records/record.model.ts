import type { FieldValue } from './field-coerce.js';

export interface LineItem {
  id: number;
  sequenceNo: number;
  productId: number;
  quantity: number;
  listprice: number;
  discountPercent: number | null;
  discountAmount: number | null;
  comment: string | null;
  netPrice: number;
}

export interface LineItemInput {
  product_id: number;
  quantity: number;
  listprice?: number;
  discount_percent?: number | null;
  discount_amount?: number | null;
  comment?: string | null;
}

/** A record as the service returns it: every field by its Vtiger name, plus the entity columns. */
export interface CrmRecord {
  id: number;
  module: string;
  version: number;
  label: string;
  ownerId: number;
  createdBy: number;
  modifiedBy: number;
  createdAt: number;
  modifiedAt: number;
  deletedAt: number | null;
  /** includes assigned_user_id, createdtime, modifiedtime and modifiedby */
  fields: Record<string, FieldValue>;
  /** Quotes only */
  lineItems?: LineItem[];
}
