import { expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { CLI_ACTOR } from '../audit/audit.repository.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { pruneEvents } from './event.repository.js';

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
});
