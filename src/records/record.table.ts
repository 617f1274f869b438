import type { Generated } from 'kysely';

/** One row per record of any module: the global id sequence, owner, audit columns, soft delete, version. */
export interface CrmEntityTable {
  id: Generated<number>;
  module: string;
  owner_id: number;
  created_by: number;
  modified_by: number;
  created_at: number;
  modified_at: number;
  deleted_at: number | null;
  /** optimistic concurrency: every write adds one; a write naming an older version is refused */
  version: number;
  label: string;
}

/** Per-module record numbers (CON1, CON2…). */
export interface RecordSequenceTable {
  module: string;
  prefix: string;
  next_value: number;
}

/** Admin-added fields; each one is a real `cf_<id>` column of the module table. */
export interface CustomFieldTable {
  id: Generated<number>;
  module: string;
  name: string;
  label: string;
  type: string;
  mandatory: number | boolean;
  /** JSON array of strings, for picklists */
  picklist_values: string;
  /** JSON array of module names, for references */
  refers_to: string;
  created_at: number;
  created_by: number | null;
}

export interface QuoteLineItemTable {
  id: Generated<number>;
  quote_id: number;
  sequence_no: number;
  product_id: number;
  quantity: number;
  listprice: number;
  discount_percent: number | null;
  discount_amount: number | null;
  comment: string | null;
  /** quantity × listprice minus the line discount */
  net_price: number;
}

/** Which organization, contact and deal a converted lead became (one row per lead). */
export interface LeadConversionTable {
  lead_id: number;
  account_id: number | null;
  contact_id: number | null;
  potential_id: number | null;
  converted_by: number | null;
  converted_at: number;
}

/** One searchable word of a record (the global-search index, `record-search-index.ts`). */
export interface SearchTermTable {
  record_id: number;
  module: string;
  field: string;
  term: string;
}
