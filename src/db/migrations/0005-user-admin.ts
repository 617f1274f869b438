import type { Kysely } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

/** The pilot-edition implementation steps from the Vtiger FAQ, in order. */
const CHECKLIST_STEPS_AT_0005 = ['identify_team', 'decide_scope', 'design_flow', 'configure', 'test'];

/**
 * User administration: email verification, password-reset and verification tokens, impersonation on
 * sessions, soft-deleted users' transfer target, the mail queue and outbox, settings, setup checklist.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema.alterTable('users').addColumn('email_verified_at', t.timestamp).execute();
  await db.schema.alterTable('users').addColumn('deleted_transfer_to', 'integer').execute();
  await db.schema.alterTable('sessions').addColumn('impersonator_user_id', 'integer').execute();
  await db.schema.alterTable('sessions').addColumn('impersonation_expires_at', t.timestamp).execute();
  await db.schema
    .createIndex('sessions_impersonator_idx')
    .on('sessions')
    .column('impersonator_user_id')
    .execute();

  await withId(dialect, db.schema.createTable('user_tokens'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('used_at', t.timestamp)
    .execute();
  await db.schema
    .createIndex('user_tokens_user_idx')
    .on('user_tokens')
    .columns(['user_id', 'purpose'])
    .execute();

  await withId(dialect, db.schema.createTable('mail_queue'))
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('sender_user_id', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('next_attempt_at', t.timestamp, (c) => c.notNull())
    .addColumn('claimed_until', t.timestamp)
    .addColumn('sent_at', t.timestamp)
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('mail_queue_due_idx')
    .on('mail_queue')
    .columns(['status', 'next_attempt_at'])
    .execute();

  await withId(dialect, db.schema.createTable('mail_outbox'))
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await withId(dialect, db.schema.createTable('impersonation_consents'))
    .addColumn('admin_user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('target_user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('decided_at', t.timestamp)
    .execute();
  await db.schema
    .createIndex('impersonation_consents_target_idx')
    .on('impersonation_consents')
    .columns(['target_user_id', 'status'])
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_by_user_id', 'integer', (c) => c.references('users.id'))
    .execute();

  await db.schema
    .createTable('setup_checklist')
    .addColumn('step', 'text', (c) => c.primaryKey())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('notes', 'text', (c) => c.notNull())
    .addColumn('updated_at', t.timestamp)
    .addColumn('updated_by_user_id', 'integer', (c) => c.references('users.id'))
    .execute();
  for (const [position, step] of CHECKLIST_STEPS_AT_0005.entries()) {
    await db
      .insertInto('setup_checklist')
      .values({
        step,
        position,
        status: 'not_started',
        notes: '',
        updated_at: null,
        updated_by_user_id: null,
      })
      .execute();
  }
}
