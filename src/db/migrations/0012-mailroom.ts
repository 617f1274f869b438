import type { Kysely } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * The mailroom (issue 12): IMAP mailboxes (password sealed with the secret box), per-folder IMAP progress,
 * ordered rules with their autofill mapping, and the message log — one row per message per source, unique
 * on (source, dedup key), holding the raw bytes so a message can be re-run after the rules change.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  const bytes = dialect === 'sqlite' ? 'blob' : 'bytea';

  await withId(dialect, db.schema.createTable('mailroom_mailboxes'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('tls', t.bool, (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('password_sealed', 'text', (c) => c.notNull())
    .addColumn('folders', 'text', (c) => c.notNull())
    .addColumn('scan', 'text', (c) => c.notNull())
    .addColumn('scan_since', t.timestamp)
    .addColumn('after_scan', 'text', (c) => c.notNull())
    .addColumn('move_to', 'text')
    .addColumn('poll_seconds', 'integer', (c) => c.notNull())
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('last_polled_at', t.timestamp)
    .addColumn('last_error', 'text')
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_poll_at', t.timestamp)
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('mailroom_folder_state')
    .addColumn('mailbox_id', 'integer', (c) =>
      c.notNull().references('mailroom_mailboxes.id').onDelete('cascade'),
    )
    .addColumn('folder', 'text', (c) => c.notNull())
    .addColumn('uid_validity', 'text', (c) => c.notNull())
    .addColumn('last_uid', 'integer', (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('mailroom_folder_state_pk', ['mailbox_id', 'folder'])
    .execute();

  await withId(dialect, db.schema.createTable('mailroom_rules'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('match_mode', 'text', (c) => c.notNull())
    .addColumn('conditions', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('module', 'text')
    .addColumn('assigned_user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('autofill', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await withId(dialect, db.schema.createTable('mailroom_messages'))
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('mailbox_id', 'integer', (c) => c.references('mailroom_mailboxes.id').onDelete('set null'))
    .addColumn('folder', 'text')
    .addColumn('uid', 'integer')
    .addColumn('dedup_key', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('from_address', 'text')
    .addColumn('from_name', 'text')
    .addColumn('subject', 'text')
    .addColumn('sent_at', t.timestamp)
    .addColumn('received_at', t.timestamp, (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('raw', bytes)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('rule_id', 'integer')
    .addColumn('rule_name', 'text')
    .addColumn('action', 'text')
    .addColumn('module', 'text')
    .addColumn('record_id', 'integer')
    .addColumn('autofilled', 'text')
    .addColumn('dropped', 'text')
    .addColumn('summary', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', t.timestamp)
    .addColumn('processed_at', t.timestamp)
    .addUniqueConstraint('mailroom_messages_dedup_uq', ['source_key', 'dedup_key'])
    .execute();
  await db.schema
    .createIndex('mailroom_messages_status_idx')
    .on('mailroom_messages')
    .columns(['status', 'id'])
    .execute();
  await db.schema
    .createIndex('mailroom_messages_record_idx')
    .on('mailroom_messages')
    .columns(['record_id'])
    .execute();
}
