import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { DomainEventInput, StoredEvent } from './event.model.js';

/** Rows per INSERT: 6 parameters each stays far below both databases' parameter limits. */
const BATCH = 500;

/** Appends events in the caller's transaction; returns them with their ids, in order. */
export async function insertEvents(
  trx: Transaction<Database>,
  events: DomainEventInput[],
  now: number,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    const rows = await trx
      .insertInto('domain_events')
      .values(
        batch.map((e) => ({
          type: e.type,
          module: e.module ?? null,
          record_id: e.recordId ?? null,
          actor_user_id: e.actorUserId ?? null,
          payload: JSON.stringify(e.payload),
          created_at: now,
        })),
      )
      .returning('id')
      .execute();
    // ids are assigned in VALUES order; RETURNING's own order is not promised, so sort them
    const ids = rows.map((r) => r.id).sort((a, b) => a - b);
    for (const [j, e] of batch.entries()) out.push({ ...e, id: ids[j]!, createdAt: now });
  }
  return out;
}

/** Deletes events created before `before`; answers how many went. */
export async function pruneEvents(db: Kysely<Database>, before: number): Promise<number> {
  const res = await db.deleteFrom('domain_events').where('created_at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows);
}
