import type { Kysely, Transaction } from 'kysely';
import { preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import type { RecordChangeRow, RecordChangeTable } from './record-history.table.js';

type NewChange = Omit<RecordChangeTable, 'id'>;

const insertChangeRows = preparedInsert('record_changes', [
  'record_id',
  'module',
  'action',
  'at',
  'actor_user_id',
  'actor_name',
  'impersonator_name',
  'channel',
  'source',
  'request_id',
  'changes',
]);

export async function insertChanges(trx: Transaction<Database>, rows: NewChange[]): Promise<void> {
  await insertChangeRows(trx, rows);
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
