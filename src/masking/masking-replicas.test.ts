import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { type AppContext, createContext } from '../context.js';
import { type App, buildApp } from '../http/app.js';
import { createLogger } from '../platform/logger.js';

/**
 * Two replicas on one database: each has its own permission cache. A rule changed through one applies there
 * on the next request and on the other once its cached snapshot is older than AUTH_CACHE_TTL_MS.
 */
describeEachDialect('masking across two replicas', (h) => {
  let b: AppContext;
  let appB: App;
  beforeAll(async () => {
    b = await createContext(h.ctx.config, { db: h.ctx.db, logger: createLogger('error'), clock: h.clock });
    appB = await buildApp(b);
    await appB.ready();
  });
  afterAll(async () => {
    await appB?.close();
    // the database belongs to the harness
    await b?.authEvents.stop();
    await b?.keyUsage.stop();
    await b?.mailQueue.stop();
  });

  it('a new rule masks on the other replica within the cache TTL, and a removed one unmasks', async () => {
    const created = await h.request({
      method: 'POST',
      url: '/api/v1/records/Contacts',
      as: h.admin,
      payload: { lastname: 'Replica', mobile: '+1 555-987-6543' },
    });
    expectStatus(created, 201);
    const url = `/api/v1/records/Contacts/${created.json().id}`;
    const viaB = async () =>
      (await appB.inject({ method: 'GET', url, headers: { cookie: h.admin.cookie } })).json().mobile;
    expect(await viaB()).toBe('+1 555-987-6543');

    const rule = await h.request({
      method: 'POST',
      url: '/api/v1/masking/rules',
      as: h.admin,
      payload: { module: 'Contacts', field: 'mobile', level: 'module' },
    });
    expectStatus(rule, 201);
    // this replica: at once
    expect((await h.request({ method: 'GET', url, as: h.admin })).json().mobile).toBe('+* ***-***-6543');
    // the other: its snapshot is at most AUTH_CACHE_TTL_MS old
    h.clock.advance(h.ctx.config.authCacheTtlMs);
    expect(await viaB()).toBe('+* ***-***-6543');

    expectStatus(
      await h.request({ method: 'DELETE', url: `/api/v1/masking/rules/${rule.json().id}`, as: h.admin }),
      204,
    );
    h.clock.advance(h.ctx.config.authCacheTtlMs);
    expect(await viaB()).toBe('+1 555-987-6543');
  });
});
