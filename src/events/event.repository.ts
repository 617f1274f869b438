import type { Kysely, Transaction } from 'kysely';
import { preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import type { DomainEventInput, StoredEvent } from './event.model.js';

const insertEventRows = preparedInsert(
  'domain_events',
  ['type', 'module', 'record_id', 'actor_user_id', 'payload', 'created_at'],
  { returningId: true },
);

/** Appends events in the caller's transaction; returns them with their ids, in order. */
export async function insertEvents(
  trx: Transaction<Database>,
  events: DomainEventInput[],
  now: number,
): Promise<StoredEvent[]> {
  const ids = await insertEventRows(
    trx,
    events.map((e) => ({
      type: e.type,
      module: e.module ?? null,
      record_id: e.recordId ?? null,
      actor_user_id: e.actorUserId ?? null,
      payload: JSON.stringify(e.payload),
      created_at: now,
    })),
  );
  return events.map((e, j) => ({ ...e, id: ids[j]!, createdAt: now }));
}

/** Deletes events created before `before`; answers how many went. */
export async function pruneEvents(db: Kysely<Database>, before: number): Promise<number> {
  const res = await db.deleteFrom('domain_events').where('created_at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows);
}
