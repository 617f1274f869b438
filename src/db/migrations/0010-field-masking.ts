import type { Kysely } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * Field masking (issue 10): one rule per module field (module level: every user; role level: the listed
 * roles, optionally with their subordinate roles), and the Unmask permission of profiles (may reveal one
 * masked value of one record at a time, audited).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);

  await withId(dialect, db.schema.createTable('masking_rules'))
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('include_subordinates', t.bool, (c) => c.notNull())
    .addColumn('keep_first', 'integer', (c) => c.notNull())
    .addColumn('keep_last', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('masking_rules_field_uq', ['module', 'field'])
    .execute();

  await db.schema
    .createTable('masking_rule_roles')
    .addColumn('rule_id', 'integer', (c) => c.notNull().references('masking_rules.id').onDelete('cascade'))
    .addColumn('role_id', 'integer', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('masking_rule_roles_pk', ['rule_id', 'role_id'])
    .execute();

  await db.schema
    .createTable('profile_unmask')
    .addColumn('profile_id', 'integer', (c) => c.primaryKey().references('profiles.id').onDelete('cascade'))
    .execute();
}
