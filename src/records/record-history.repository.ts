import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { RecordChangeRow, RecordChangeTable } from './record-history.table.js';

type NewChange = Omit<RecordChangeTable, 'id'>;

/** Rows per INSERT: 11 parameters each keeps a batch far below both databases' parameter limits. */
const BATCH = 400;

export async function insertChanges(trx: Transaction<Database>, rows: NewChange[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH)
    await trx
      .insertInto('record_changes')
      .values(rows.slice(i, i + BATCH))
      .execute();
}

/** A record's changes, newest first, `limit` at a time before the change id `before`. */
export function selectChanges(
  db: Kysely<Database>,
  recordId: number,
  opts: { limit: number; before?: number },
): Promise<RecordChangeRow[]> {
  let q = db.selectFrom('record_changes').selectAll().where('record_id', '=', recordId);
  if (opts.before !== undefined) q = q.where('id', '<', opts.before);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}
