import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * PostgreSQL: each module's record numbers (CON1, CON2…) come from a sequence of its own, created here to go
 * on from the module's `record_sequences.next_value`, which PostgreSQL no longer reads. Every create updated the module's one row in that table, and creates of a module queued on its
 * row lock, one commit at a time. A sequence hands out numbers without a lock and without waiting for any
 * transaction (a rolled-back create leaves a gap, as a failed create already did). SQLite keeps the row: it
 * has one writer, and the update runs inside the create's own write.
 *
 * The name is `record_number_` and the module's name in lower case (`recordNumberSequence` in
 * `records/record.repository.ts`); a migration that adds a numbered module creates its sequence too.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'postgres') return;
  const rows = (await db.selectFrom('record_sequences').select(['module', 'next_value']).execute()) as Array<{
    module: string;
    next_value: number | string;
  }>;
  for (const r of rows)
    await sql`create sequence ${sql.id(`record_number_${r.module.toLowerCase()}`)} start with ${sql.lit(Number(r.next_value))}`.execute(
      db,
    );
}
