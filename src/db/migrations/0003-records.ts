import type { Kysely } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

type FieldTypeAt0003 =
  | 'string'
  | 'text'
  | 'email'
  | 'phone'
  | 'url'
  | 'integer'
  | 'decimal'
  | 'currency'
  | 'date'
  | 'datetime'
  | 'boolean'
  | 'picklist'
  | 'multipicklist'
  | 'reference';

/**
 * The standard modules' tables as they were when this migration landed: a snapshot, never the live module
 * files, so a standard field added later (with its own migration) cannot break a fresh install.
 */
const MODULE_TABLES_AT_0003: ReadonlyArray<{
  table: string;
  module: string;
  numberPrefix: string | null;
  columns: ReadonlyArray<readonly [string, FieldTypeAt0003]>;
}> = [
  {
    table: 'crm_quotes',
    module: 'Quotes',
    numberPrefix: 'QUO',
    columns: [
      ['subject', 'string'],
      ['quote_no', 'string'],
      ['potential_id', 'reference'],
      ['quotestage', 'picklist'],
      ['validtill', 'date'],
      ['contact_id', 'reference'],
      ['carrier', 'picklist'],
      ['shipping', 'string'],
      ['account_id', 'reference'],
      ['hdnSubTotal', 'currency'],
      ['hdnDiscountPercent', 'decimal'],
      ['hdnDiscountAmount', 'currency'],
      ['hdnS_H_Amount', 'currency'],
      ['txtAdjustment', 'currency'],
      ['pre_tax_total', 'currency'],
      ['hdnGrandTotal', 'currency'],
      ['source', 'string'],
      ['bill_street', 'text'],
      ['ship_street', 'text'],
      ['bill_city', 'string'],
      ['ship_city', 'string'],
      ['bill_state', 'string'],
      ['ship_state', 'string'],
      ['bill_code', 'string'],
      ['ship_code', 'string'],
      ['bill_country', 'string'],
      ['ship_country', 'string'],
      ['bill_pobox', 'string'],
      ['ship_pobox', 'string'],
      ['terms_conditions', 'text'],
      ['description', 'text'],
    ],
  },
  {
    table: 'crm_leads',
    module: 'Leads',
    numberPrefix: 'LEA',
    columns: [
      ['salutationtype', 'string'],
      ['firstname', 'string'],
      ['lead_no', 'string'],
      ['phone', 'phone'],
      ['lastname', 'string'],
      ['mobile', 'phone'],
      ['company', 'string'],
      ['fax', 'phone'],
      ['designation', 'string'],
      ['email', 'email'],
      ['leadsource', 'picklist'],
      ['website', 'url'],
      ['industry', 'picklist'],
      ['leadstatus', 'picklist'],
      ['annualrevenue', 'currency'],
      ['rating', 'picklist'],
      ['noofemployees', 'integer'],
      ['secondaryemail', 'email'],
      ['emailoptout', 'boolean'],
      ['source', 'string'],
      ['lane', 'text'],
      ['code', 'string'],
      ['city', 'string'],
      ['country', 'string'],
      ['state', 'string'],
      ['pobox', 'string'],
      ['description', 'text'],
    ],
  },
  {
    table: 'crm_accounts',
    module: 'Accounts',
    numberPrefix: 'ACC',
    columns: [
      ['accountname', 'string'],
      ['account_no', 'string'],
      ['phone', 'phone'],
      ['website', 'url'],
      ['fax', 'phone'],
      ['tickersymbol', 'string'],
      ['otherphone', 'phone'],
      ['account_id', 'reference'],
      ['email1', 'email'],
      ['employees', 'integer'],
      ['email2', 'email'],
      ['ownership', 'string'],
      ['industry', 'picklist'],
      ['rating', 'picklist'],
      ['accounttype', 'picklist'],
      ['siccode', 'string'],
      ['emailoptout', 'boolean'],
      ['annual_revenue', 'currency'],
      ['notify_owner', 'boolean'],
      ['source', 'string'],
      ['bill_street', 'text'],
      ['ship_street', 'text'],
      ['bill_city', 'string'],
      ['ship_city', 'string'],
      ['bill_state', 'string'],
      ['ship_state', 'string'],
      ['bill_code', 'string'],
      ['ship_code', 'string'],
      ['bill_country', 'string'],
      ['ship_country', 'string'],
      ['bill_pobox', 'string'],
      ['ship_pobox', 'string'],
      ['description', 'text'],
    ],
  },
  {
    table: 'crm_contacts',
    module: 'Contacts',
    numberPrefix: 'CON',
    columns: [
      ['salutationtype', 'string'],
      ['firstname', 'string'],
      ['contact_no', 'string'],
      ['phone', 'phone'],
      ['lastname', 'string'],
      ['mobile', 'phone'],
      ['account_id', 'reference'],
      ['homephone', 'phone'],
      ['leadsource', 'picklist'],
      ['otherphone', 'phone'],
      ['title', 'string'],
      ['fax', 'phone'],
      ['department', 'string'],
      ['birthday', 'date'],
      ['email', 'email'],
      ['contact_id', 'reference'],
      ['assistant', 'string'],
      ['secondaryemail', 'email'],
      ['assistantphone', 'phone'],
      ['donotcall', 'boolean'],
      ['emailoptout', 'boolean'],
      ['reference', 'boolean'],
      ['notify_owner', 'boolean'],
      ['isconvertedfromlead', 'boolean'],
      ['source', 'string'],
      ['starred', 'boolean'],
      ['tags', 'string'],
      ['portal', 'boolean'],
      ['support_start_date', 'date'],
      ['support_end_date', 'date'],
      ['mailingstreet', 'text'],
      ['otherstreet', 'text'],
      ['mailingcity', 'string'],
      ['othercity', 'string'],
      ['mailingstate', 'string'],
      ['otherstate', 'string'],
      ['mailingzip', 'string'],
      ['otherzip', 'string'],
      ['mailingcountry', 'string'],
      ['othercountry', 'string'],
      ['mailingpobox', 'string'],
      ['otherpobox', 'string'],
      ['description', 'text'],
    ],
  },
  {
    table: 'crm_potentials',
    module: 'Potentials',
    numberPrefix: 'POT',
    columns: [
      ['potentialname', 'string'],
      ['potential_no', 'string'],
      ['amount', 'currency'],
      ['related_to', 'reference'],
      ['closingdate', 'date'],
      ['opportunity_type', 'picklist'],
      ['nextstep', 'string'],
      ['leadsource', 'picklist'],
      ['sales_stage', 'picklist'],
      ['probability', 'decimal'],
      ['contact_id', 'reference'],
      ['forecast_amount', 'currency'],
      ['isconvertedfromlead', 'boolean'],
      ['source', 'string'],
      ['description', 'text'],
    ],
  },
  {
    table: 'crm_products',
    module: 'Products',
    numberPrefix: 'PRO',
    columns: [
      ['productname', 'string'],
      ['product_no', 'string'],
      ['productcode', 'string'],
      ['discontinued', 'boolean'],
      ['manufacturer', 'picklist'],
      ['productcategory', 'picklist'],
      ['sales_start_date', 'date'],
      ['sales_end_date', 'date'],
      ['start_date', 'date'],
      ['expiry_date', 'date'],
      ['website', 'url'],
      ['mfr_part_no', 'string'],
      ['vendor_part_no', 'string'],
      ['serial_no', 'string'],
      ['productsheet', 'string'],
      ['glacct', 'picklist'],
      ['unit_price', 'currency'],
      ['commissionrate', 'decimal'],
      ['usageunit', 'picklist'],
      ['qty_per_unit', 'decimal'],
      ['qtyinstock', 'decimal'],
      ['reorderlevel', 'integer'],
      ['qtyindemand', 'integer'],
      ['source', 'string'],
      ['description', 'text'],
    ],
  },
  {
    table: 'crm_tickets',
    module: 'HelpDesk',
    numberPrefix: 'TT',
    columns: [
      ['ticket_no', 'string'],
      ['parent_id', 'reference'],
      ['ticketpriorities', 'picklist'],
      ['product_id', 'reference'],
      ['ticketseverities', 'picklist'],
      ['ticketstatus', 'picklist'],
      ['ticketcategories', 'picklist'],
      ['hours', 'decimal'],
      ['days', 'decimal'],
      ['contact_id', 'reference'],
      ['ticket_title', 'string'],
      ['source', 'string'],
      ['description', 'text'],
      ['solution', 'text'],
    ],
  },
];

/**
 * Records: `crm_entities` plus one typed table per standard module (the snapshot above), custom-field
 * metadata, record number sequences and quote line items.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  const columnType = (type: FieldTypeAt0003) => {
    switch (type) {
      case 'integer':
      case 'reference':
        return 'integer';
      case 'decimal':
      case 'currency':
        return t.decimal;
      case 'boolean':
        return t.bool;
      case 'datetime':
        return t.timestamp;
      default:
        return 'text';
    }
  };
  await withId(dialect, db.schema.createTable('crm_entities'))
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('created_by', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('modified_by', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('modified_at', t.timestamp, (c) => c.notNull())
    .addColumn('deleted_at', t.timestamp)
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .execute();
  const idx = (name: string, table: string, columns: string[]) =>
    db.schema.createIndex(name).on(table).columns(columns).execute();
  // sharing filters by owner within a module; sync and "recently modified" lists sort by modified_at
  await idx('crm_entities_module_owner_idx', 'crm_entities', ['module', 'owner_id', 'deleted_at']);
  await idx('crm_entities_module_deleted_idx', 'crm_entities', ['module', 'deleted_at', 'id']);
  await idx('crm_entities_module_modified_idx', 'crm_entities', ['module', 'modified_at']);
  await idx('crm_entities_owner_idx', 'crm_entities', ['owner_id']);

  await db.schema
    .createTable('record_sequences')
    .addColumn('module', 'text', (c) => c.primaryKey())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('next_value', 'integer', (c) => c.notNull())
    .execute();

  await withId(dialect, db.schema.createTable('record_custom_fields'))
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('mandatory', t.bool, (c) => c.notNull())
    .addColumn('picklist_values', 'text', (c) => c.notNull())
    .addColumn('refers_to', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_by', 'integer')
    .execute();

  for (const m of MODULE_TABLES_AT_0003) {
    let table = db.schema
      .createTable(m.table)
      .addColumn('id', 'integer', (c) => c.primaryKey().references('crm_entities.id').onDelete('cascade'));
    for (const [name, type] of m.columns) table = table.addColumn(name, columnType(type));
    await table.execute();
    for (const [name, type] of m.columns) {
      if (type === 'reference') await idx(`${m.table}_${name}_idx`, m.table, [name]);
    }
    if (m.numberPrefix) {
      await db
        .insertInto('record_sequences')
        .values({ module: m.module, prefix: m.numberPrefix, next_value: 1 })
        .execute();
    }
  }

  await withId(dialect, db.schema.createTable('quote_line_items'))
    .addColumn('quote_id', 'integer', (c) => c.notNull().references('crm_entities.id').onDelete('cascade'))
    .addColumn('sequence_no', 'integer', (c) => c.notNull())
    .addColumn('product_id', 'integer', (c) => c.notNull().references('crm_entities.id'))
    .addColumn('quantity', t.decimal, (c) => c.notNull())
    .addColumn('listprice', t.decimal, (c) => c.notNull())
    .addColumn('discount_percent', t.decimal)
    .addColumn('discount_amount', t.decimal)
    .addColumn('comment', 'text')
    .addColumn('net_price', t.decimal, (c) => c.notNull())
    .execute();
  await idx('quote_line_items_quote_idx', 'quote_line_items', ['quote_id', 'sequence_no']);
  await idx('quote_line_items_product_idx', 'quote_line_items', ['product_id']);
}
