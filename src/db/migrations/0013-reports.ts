import type { Kysely } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * Saved reports (issue 13): the definition is JSON checked against module metadata at every run, so a
 * report naming a field that no longer exists says so instead of failing. Sharing shares the definition;
 * every viewer sees the rows their own sharing and masking allow. Schedules e-mail a report's CSV; the
 * `next_run_at` compare-and-set makes one replica send each period.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);

  await withId(dialect, db.schema.createTable('reports'))
    .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('primary_module', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('private'))
    .addColumn('shared_user_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('shared_role_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reports_owner_idx').on('reports').column('owner_id').execute();

  await withId(dialect, db.schema.createTable('report_schedules'))
    .addColumn('report_id', 'integer', (c) => c.notNull().references('reports.id').onDelete('cascade'))
    .addColumn('frequency', 'text', (c) => c.notNull())
    .addColumn('weekdays', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('day_of_month', 'integer')
    .addColumn('on_date', 'text')
    .addColumn('time_utc', 'text', (c) => c.notNull().defaultTo('08:00'))
    .addColumn('recipient_user_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('recipient_role_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('recipient_emails', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('next_run_at', t.timestamp)
    .addColumn('last_run_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('report_schedules_report_idx')
    .on('report_schedules')
    .column('report_id')
    .execute();
  await db.schema
    .createIndex('report_schedules_due_idx')
    .on('report_schedules')
    .column('next_run_at')
    .execute();
}
