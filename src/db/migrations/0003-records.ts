import type { Kysely } from 'kysely';
import { fieldColumnType } from '../../records/field-columns.js';
import { STANDARD_MODULES } from '../../records/modules/index.js';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * Records: `crm_entities` plus one typed table per standard module, built from the module files as they
 * were when this migration was written. A standard field added later needs its own migration.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
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

  for (const m of STANDARD_MODULES) {
    let table = db.schema
      .createTable(m.table)
      .addColumn('id', 'integer', (c) => c.primaryKey().references('crm_entities.id').onDelete('cascade'));
    for (const field of m.fields) {
      if (field.storage === 'module') table = table.addColumn(field.name, fieldColumnType(t, field.type));
    }
    await table.execute();
    for (const field of m.fields) {
      if (field.storage === 'module' && field.type === 'reference')
        await idx(`${m.table}_${field.name}_idx`, m.table, [field.name]);
    }
    if (m.numberField) {
      await db
        .insertInto('record_sequences')
        .values({ module: m.name, prefix: m.numberField.prefix, next_value: 1 })
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
