import type { Kysely } from 'kysely';
import { columnTypes } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * Lead conversion: the lead's read-only `converted` flag, and which organization, contact and deal it became
 * (one row per converted lead; the primary key makes a second, concurrent conversion fail).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .alterTable('crm_leads')
    .addColumn('converted', t.bool, (c) => c.notNull().defaultTo(dialect === 'sqlite' ? 0 : false))
    .execute();
  await db.schema
    .createTable('lead_conversions')
    .addColumn('lead_id', 'integer', (c) => c.primaryKey().references('crm_entities.id').onDelete('cascade'))
    .addColumn('account_id', 'integer')
    .addColumn('contact_id', 'integer')
    .addColumn('potential_id', 'integer')
    .addColumn('converted_by', 'integer')
    .addColumn('converted_at', t.timestamp, (c) => c.notNull())
    .execute();
}
