import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { CLI_ACTOR } from '../audit/audit.repository.js';
import { contextWithin, withUnitOfWork } from '../db/unit-of-work.js';
import { loadModuleMeta } from '../records/module-meta.js';
import { loadPrincipal } from '../roles/role.repository.js';
import { findUserByUsername } from '../users/user.repository.js';
import { masksFor } from './masking-cache.js';

const settles = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms),
    ),
  ]);

describeEachDialect('masking rules cache', (h) => {
  it('a transaction never waits for a read of the rules started outside it (on SQLite it would wait for itself)', async () => {
    const rule = await h.request({
      method: 'POST',
      url: '/api/v1/masking/rules',
      as: h.admin,
      payload: { module: 'Contacts', field: 'mobile', level: 'module' },
    });
    expectStatus(rule, 201);
    const db = h.ctx.db.kysely;
    const admin = await loadPrincipal(db, (await findUserByUsername(db, 'admin'))!);
    const meta = await loadModuleMeta(db, 'Contacts');
    // a stale snapshot: the next reader reads the rules again
    h.ctx.authCache.clear();
    let outside: Promise<unknown> | undefined;
    const inside = await settles(
      withUnitOfWork(h.ctx, CLI_ACTOR, async (uow) => {
        // a request reads the rules meanwhile, outside the transaction: on SQLite it waits for its end
        outside = masksFor(h.ctx, admin, meta);
        // the writer presents a change (a webhook's payload) inside it
        return masksFor(contextWithin(h.ctx, uow), admin, meta);
      }),
      5000,
    );
    expect([...inside.keys()]).toEqual(['mobile']);
    expect([...((await outside) as ReadonlyMap<string, unknown>).keys()]).toEqual(['mobile']);
    // once the read outside has finished, a transaction gets the same rules from the cache
    const later = await withUnitOfWork(h.ctx, CLI_ACTOR, async (uow) =>
      masksFor(contextWithin(h.ctx, uow), admin, meta),
    );
    expect([...later.keys()]).toEqual(['mobile']);
  });
});
