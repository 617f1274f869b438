import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The global-search index: one row per searchable word of a record's name, email, phone or number fields,
 * kept in step with the record in the transaction of each change. Searches are prefix range scans on `term`.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('search_terms')
    .addColumn('record_id', 'integer', (c) => c.notNull().references('crm_entities.id').onDelete('cascade'))
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    // byte order on both databases (SQLite's BINARY; PostgreSQL's "C"), so a prefix is one index range
    .addColumn('term', 'text', (c) =>
      dialect === 'postgres' ? c.notNull().modifyEnd(sql`collate "C"`) : c.notNull(),
    )
    .execute();
  await db.schema
    .createIndex('search_terms_term_idx')
    .on('search_terms')
    .columns(['term', 'record_id'])
    .execute();
  await db.schema.createIndex('search_terms_record_idx').on('search_terms').column('record_id').execute();
}
