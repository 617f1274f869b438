import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { CLI_ACTOR } from '../audit/audit.repository.js';
import type { Database } from '../db/schema.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { pruneEvents } from './event.repository.js';

/** Events of type `type`, one at each of `times` (their `created_at`), inserted in that order. */
async function insertEvents(db: Kysely<Database>, type: string, times: readonly number[]): Promise<void> {
  await db
    .insertInto('domain_events')
    .values(
      times.map((created_at) => ({
        type,
        payload: '{}',
        created_at,
        module: null,
        record_id: null,
        actor_user_id: null,
      })),
    )
    .execute();
}

describeEachDialect('domain event retention', (h) => {
  it('prunes only the events created before the cut-off', async () => {
    const emitAt = async (type: string) =>
      withUnitOfWork(h.ctx, CLI_ACTOR, async (uow) => uow.emit({ type, payload: {} }));
    await emitAt('test.old');
    const cutOff = h.clock.now() + 1;
    h.clock.advance(10);
    await emitAt('test.new');
    const types = async () =>
      (
        await h.ctx.db.kysely
          .selectFrom('domain_events')
          .select('type')
          .where('type', 'like', 'test.%')
          .execute()
      ).map((r) => r.type);
    expect((await types()).sort()).toEqual(['test.new', 'test.old']);
    expect(await pruneEvents(h.ctx.db.kysely, cutOff)).toBeGreaterThanOrEqual(1);
    expect(await types()).toEqual(['test.new']);
  });

  it('finds the cut-off by id, and never deletes an event whose time is after it', async () => {
    const db = h.ctx.db.kysely;
    await db.deleteFrom('domain_events').execute();
    const base = 1_000_000;
    // 300 events ten milliseconds apart, and two whose ids and times disagree around the cut-off
    const times = Array.from({ length: 300 }, (_, i) => base + i * 10);
    times[149] = base + 1_600; // written late by a unit of work that started after the cut-off: kept
    times[151] = base + 1_400; // started before the cut-off, written after a newer event: goes later
    await insertEvents(db, 'test.t', times);
    const cutOff = base + 1_505;
    const left = async () =>
      (await db.selectFrom('domain_events').select('created_at').orderBy('id').execute()).map((r) =>
        Number(r.created_at),
      );
    const deleted = await pruneEvents(db, cutOff);
    const kept = await left();
    // never early: whatever went was older than the cut-off
    expect(kept.filter((t) => t >= cutOff)).toHaveLength(300 - 151);
    expect(kept).toContain(base + 1_600);
    // all of the steady part went; only the pair around the out-of-order event may wait
    expect(kept.filter((t) => t < base + 1_490)).toEqual(kept.includes(base + 1_400) ? [base + 1_400] : []);
    expect(deleted).toBeGreaterThanOrEqual(149);
    // once the cut-off passes the out-of-order event, everything older goes
    await pruneEvents(db, base + 1_605);
    expect((await left()).filter((t) => t < base + 1_605)).toEqual([]);
    expect(await pruneEvents(db, base + 1_605)).toBe(0);
  });

  it('deletes a batch of ids at a time, letting other work run between batches, until stopped', async () => {
    const db = h.ctx.db.kysely;
    await db.deleteFrom('domain_events').execute();
    await insertEvents(db, 'test.b', [...Array<number>(50).fill(1_000), ...Array<number>(10).fill(3_000)]);
    const count = async () =>
      Number(
        (await db.selectFrom('domain_events').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
      );
    // stopped after its first statement: one batch of 7 went
    let statements = 0;
    expect(await pruneEvents(db, 2_000, { batch: 7, stopped: () => statements++ > 0 })).toBe(7);
    expect(await count()).toBe(53);
    // the rest in batches of 7; a callback queued meanwhile runs before the prune ends
    let turned = false;
    const prune = pruneEvents(db, 2_000, { batch: 7 });
    setImmediate(() => {
      turned = true;
    });
    expect(await prune).toBe(43);
    expect(turned).toBe(true);
    expect(await count()).toBe(10);
  });
});
