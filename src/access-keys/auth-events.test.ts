import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, eventually, Harness, PG_URL } from '../../test/harness.js';
import { type AppContext, createContext } from '../context.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { createLogger } from '../platform/logger.js';
import { noteKeyFailure } from './key-failures.js';

/** Two processes' contexts on one PostgreSQL schema: what one commits, the other hears (LISTEN/NOTIFY). */
describe.runIf(DIALECTS.includes('postgres'))('auth events between replicas (PostgreSQL)', () => {
  const h = new Harness('postgres');
  let b: AppContext;
  beforeAll(async () => {
    await h.start();
    b = await createContext(h.ctx.config, { db: h.ctx.db, logger: createLogger('error'), clock: h.clock });
  });
  afterAll(async () => {
    await b?.authEvents.stop();
    await b?.keyUsage.stop();
    await b?.mailQueue.stop();
    await h.stop();
  });
  const actor = { userId: null, username: 'test', ip: '127.0.0.1', userAgent: null, requestId: null };

  it('a committed auth change clears the other process’s cache; a rolled-back one does not', async () => {
    expect(b.authEvents.listening).toBe(true);
    const before = b.authCache.generation;
    await withUnitOfWork(h.ctx, actor, async (uow) => uow.invalidatesAuth());
    expect(await eventually(() => b.authCache.generation > before)).toBe(true);

    const after = b.authCache.generation;
    await expect(
      withUnitOfWork(h.ctx, actor, async (uow) => {
        uow.invalidatesAuth();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await new Promise((r) => setTimeout(r, 200));
    expect(b.authCache.generation).toBe(after);
  });

  it('an address that used up its failed-key attempts here is refused by the other process too', async () => {
    const ip = '203.0.113.201';
    const now = h.clock.now();
    const max = h.ctx.config.accessKeys.maxFailuresPerIp;
    for (let i = 0; i < max - 1; i++) expect(await noteKeyFailure(h.ctx, ip, now)).toBeNull();
    expect(b.keyLimits.failureBlocked(ip, now)).toBeNull();
    expect(await noteKeyFailure(h.ctx, ip, now)).toBeNull(); // the last one allowed: 401, then blocked
    expect(h.ctx.keyLimits.failureBlocked(ip, now)).not.toBeNull();
    expect(await eventually(() => b.keyLimits.failureBlocked(ip, now) !== null)).toBe(true);
    // one more from anywhere is over the limit
    expect(await noteKeyFailure(b, ip, now)).toBeGreaterThan(0);
  });

  it('reconnects after its LISTEN connection is terminated, clears its cache, and hears changes again', async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const connections = b.authEvents.connections;
      await admin.query('select pg_terminate_backend($1)', [b.authEvents.backendPid]);
      expect(await eventually(() => b.authEvents.connections > connections, 5000)).toBe(true);
      const before = b.authCache.generation;
      await withUnitOfWork(h.ctx, actor, async (uow) => uow.invalidatesAuth());
      expect(await eventually(() => b.authCache.generation > before)).toBe(true);
    } finally {
      await admin.end();
    }
  });
});
