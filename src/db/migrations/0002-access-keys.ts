import { type Kysely, sql } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  // API access defaults to on, as in Vtiger where a user's key works from creation.
  await db.schema
    .alterTable('users')
    .addColumn('api_access', t.bool, (c) => c.notNull().defaultTo(dialect === 'sqlite' ? 1 : sql`true`))
    .execute();

  await withId(dialect, db.schema.createTable('access_keys'))
    .addColumn('user_id', 'integer', (c) => c.notNull().unique().references('users.id').onDelete('cascade'))
    .addColumn('digest', 'text', (c) => c.notNull().unique())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('hint', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .addColumn('last_used_ip', 'text')
    .execute();

  await db.schema
    .createTable('access_key_usage')
    .addColumn('key_id', 'integer', (c) => c.notNull())
    .addColumn('hour', t.timestamp, (c) => c.notNull())
    .addColumn('requests', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_key_usage_pk', ['key_id', 'hour'])
    .execute();
}
