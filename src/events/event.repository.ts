import type { Kysely, Transaction } from 'kysely';
import { preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import type { DomainEventInput, StoredEvent } from './event.model.js';

/**
 * Nothing reads an event's id back (subscribers get the event itself): on PostgreSQL the INSERT waits and
 * goes with the transaction's next statement (`deferInserts`), often its COMMIT.
 */
const insertEventRows = preparedInsert('domain_events', [
  'type',
  'module',
  'record_id',
  'actor_user_id',
  'payload',
  'created_at',
]);

/** Appends events in the caller's transaction; returns them with their time, in order. */
export async function insertEvents(
  trx: Transaction<Database>,
  events: DomainEventInput[],
  now: number,
): Promise<StoredEvent[]> {
  await insertEventRows(
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
  return events.map((e) => ({ ...e, createdAt: now }));
}

/** the retention prune deletes at most this many ids' worth of events per statement */
export const PRUNE_BATCH = 2_000;

/**
 * Deletes events created before `before`; answers how many went. There is no index on the time (one more
 * page for every write to maintain, see migration 0023): ids ascend with time, so the first id to keep is
 * found by a binary search over the primary key. Ids and times can disagree by up to a transaction's length
 * (an event's time is its unit of work's start, its id is taken when the unit of work writes it, at the end),
 * so the delete also checks the time: an event is never deleted early, and one that straddles the boundary
 * goes at a later prune.
 *
 * The delete goes `batch` ids at a time, letting the event loop turn between statements: an hour of events
 * is what each hourly prune deletes, and in one statement SQLite took 195 ms for 72,000 events (20 writes a
 * second) and 2.4 s for 720,000, with every request waiting meanwhile. `stopped` ends it early (shutdown).
 */
export async function pruneEvents(
  db: Kysely<Database>,
  before: number,
  { batch = PRUNE_BATCH, stopped = () => false }: { batch?: number; stopped?: () => boolean } = {},
): Promise<number> {
  const first = async (atLeast: number) =>
    db
      .selectFrom('domain_events')
      .select(['id', 'created_at'])
      .where('id', '>=', atLeast)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
  const oldest = await first(0);
  if (!oldest || Number(oldest.created_at) >= before) return 0;
  const newest = await db
    .selectFrom('domain_events')
    .select('id')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  // the smallest id whose next event (by id) is not older than `before`; every event below it is older
  let lo = Number(oldest.id) + 1;
  let hi = Number(newest.id) + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = await first(mid);
    if (!row || Number(row.created_at) >= before) hi = mid;
    else lo = Number(row.id) + 1;
  }
  let deleted = 0;
  for (let from = Number(oldest.id); from < lo && !stopped(); from += batch) {
    if (from > Number(oldest.id)) await new Promise((r) => setImmediate(r));
    const res = await db
      .deleteFrom('domain_events')
      .where('id', '>=', from)
      .where('id', '<', Math.min(from + batch, lo))
      .where('created_at', '<', before)
      .executeTakeFirst();
    deleted += Number(res.numDeletedRows);
  }
  return deleted;
}
