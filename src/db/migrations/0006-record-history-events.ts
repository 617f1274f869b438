import type { Kysely } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * Record history (every change to a record, whichever channel made it) and the domain-event outbox
 * (events written in the transaction of the change, for consumers such as webhooks).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);

  await withId(dialect, db.schema.createTable('record_changes'))
    .addColumn('record_id', 'integer', (c) => c.notNull().references('crm_entities.id').onDelete('cascade'))
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('at', t.timestamp, (c) => c.notNull())
    .addColumn('actor_user_id', 'integer')
    .addColumn('actor_name', 'text')
    .addColumn('impersonator_name', 'text')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .addColumn('request_id', 'text')
    .addColumn('changes', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('record_changes_record_idx')
    .on('record_changes')
    .columns(['record_id', 'id'])
    .execute();

  await withId(dialect, db.schema.createTable('domain_events'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('module', 'text')
    .addColumn('record_id', 'integer')
    .addColumn('actor_user_id', 'integer')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('domain_events_created_idx').on('domain_events').column('created_at').execute();
}
