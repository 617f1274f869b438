import { type Kysely, sql } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

/**
 * A message's body is stored once, in `webhook_payloads`, and its deliveries point at it (`payload_id`).
 * Each delivery carried its own copy: an event for ten webhooks wrote ten ~1.3 KB bodies, and every claim
 * and result rewrote rows that wide, so a 4 KB page held about three deliveries and the sender's commits
 * wrote a page per three messages it touched (on SQLite a delivery cost ~50 µs of statements, 18 µs of it
 * the commits; docs/performance.md, stop 51). Existing deliveries keep their bodies: each becomes a payload
 * under the delivery's own id. The index on `payload_id` lets retention find the payloads no delivery uses.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);
  await withId(dialect, db.schema.createTable('webhook_payloads'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.alterTable('webhook_deliveries').addColumn('payload_id', 'integer').execute();
  await sql`insert into webhook_payloads (id, body, created_at)
    select id, payload, created_at from webhook_deliveries`.execute(db);
  await sql`update webhook_deliveries set payload_id = id`.execute(db);
  if (dialect === 'postgres')
    // the identity goes on after the ids taken over (SQLite's autoincrement counts them by itself)
    await sql`select setval(pg_get_serial_sequence('webhook_payloads', 'id'), coalesce(max(id), 0) + 1, false)
      from webhook_payloads`.execute(db);
  await db.schema.alterTable('webhook_deliveries').dropColumn('payload').execute();
  await db.schema
    .createIndex('webhook_deliveries_payload_idx')
    .on('webhook_deliveries')
    .column('payload_id')
    .execute();
}
