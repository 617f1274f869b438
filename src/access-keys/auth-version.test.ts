import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect, eventually } from '../../test/harness.js';
import { type AppContext, closeContext, createContext } from '../context.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { createLogger } from '../platform/logger.js';

/**
 * A second process's context on the same database, without LISTEN: it learns of auth changes only by
 * polling the auth version (every AUTH_VERSION_POLL_MS). A poll that finds it moved clears the cache; one
 * that finds it unchanged keeps what is cached fresh (instead of every entry being read again each TTL).
 */
describeEachDialect('auth version between processes', (h) => {
  let b: AppContext;
  const polls: number[] = [];
  beforeAll(async () => {
    b = await createContext(
      { ...h.ctx.config, authCacheListen: false },
      { db: h.ctx.db, logger: createLogger('error'), clock: h.clock },
    );
    const confirm = b.authCache.confirm.bind(b.authCache);
    b.authCache.confirm = (at) => {
      polls.push(at);
      confirm(at);
    };
  });
  afterAll(async () => {
    // the database belongs to the harness
    await closeContext({ ...b, db: { ...b.db, close: async () => {} } });
  });
  const actor = { userId: null, username: 'test', ip: '127.0.0.1', userAgent: null, requestId: null };
  const nextPoll = () => {
    const seen = polls.length;
    return eventually(() => polls.length > seen);
  };

  it('a change committed by one process clears the other’s cache at its next poll; a rolled-back one does not', async () => {
    expect(b.authEvents.listening).toBe(false);
    await nextPoll();
    const before = b.authCache.generation;
    await withUnitOfWork(h.ctx, actor, async (uow) => uow.invalidatesAuth());
    expect(await eventually(() => b.authCache.generation > before)).toBe(true);

    await nextPoll();
    const after = b.authCache.generation;
    await expect(
      withUnitOfWork(h.ctx, actor, async (uow) => {
        uow.invalidatesAuth();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await nextPoll();
    await nextPoll();
    expect(b.authCache.generation).toBe(after);
  });

  it('its own change clears its cache once (the poll does not clear for it again), unless another came before', async () => {
    await nextPoll();
    const before = b.authCache.generation;
    await withUnitOfWork(b, actor, async (uow) => uow.invalidatesAuth());
    await nextPoll();
    await nextPoll();
    expect(b.authCache.generation).toBe(before + 1);

    // the other process's change, then this one's before a poll could see the first: the poll clears for it
    await nextPoll();
    const start = b.authCache.generation;
    await withUnitOfWork(h.ctx, actor, async (uow) => uow.invalidatesAuth());
    await withUnitOfWork(b, actor, async (uow) => uow.invalidatesAuth());
    await nextPoll();
    await nextPoll();
    expect(b.authCache.generation).toBe(start + 2);
  });

  // PostgreSQL only: SQLite's statements follow DDL by themselves (no schemaChanged)
  it.skipIf(h.dialect === 'sqlite')(
    'a change seen by a poll drops cached permissions only: prepared statements stay',
    async () => {
      const db = h.ctx.db;
      const original = db.schemaChanged!;
      let schemaChanges = 0;
      db.schemaChanged = () => {
        schemaChanges++;
        original.call(db);
      };
      try {
        await nextPoll();
        const before = b.authCache.generation;
        await withUnitOfWork(h.ctx, actor, async (uow) => uow.invalidatesAuth());
        expect(await eventually(() => b.authCache.generation > before)).toBe(true);
        await nextPoll();
        expect(schemaChanges).toBe(0);
      } finally {
        db.schemaChanged = original;
      }
    },
  );

  it('while polls find no change, a cached entry outlives the TTL; without them it ends at the TTL', async () => {
    const ttl = h.ctx.config.authCacheTtlMs;
    const user = { id: 424242 } as never;
    await b.authCache.keyThrough('digest', { isTransaction: false }, async () => ({ user, keyId: 1 }));
    for (let i = 0; i < 4; i++) {
      h.clock.advance(ttl / 2);
      // a poll that started at this time (one in flight may have started before the clock moved)
      const now = h.clock.now();
      expect(await eventually(() => (polls.at(-1) ?? 0) >= now)).toBe(true);
      expect(b.authCache.getKey('digest')?.user).toBe(user);
    }
    // polls stopped (a database outage): the last confirmation is honoured for one TTL, no longer
    await b.authEvents.stop();
    h.clock.advance(ttl - 1);
    expect(b.authCache.getKey('digest')?.user).toBe(user);
    h.clock.advance(1);
    expect(b.authCache.getKey('digest')).toBeUndefined();
  });
});
