import type { Kysely } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * Several live getchallenge tokens per user (issue 14, finding 4): a getchallenge no longer replaces the
 * victim's pending token. `ip` lets the server cap tokens per client and throttle getchallenge per IP.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await withId(dialect, db.schema.createTable('ws_challenge_tokens'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('ws_challenge_tokens_user_idx')
    .on('ws_challenge_tokens')
    .columns(['user_id', 'expires_at'])
    .execute();
  await db.schema
    .createIndex('ws_challenge_tokens_ip_idx')
    .on('ws_challenge_tokens')
    .columns(['ip', 'created_at'])
    .execute();
}
