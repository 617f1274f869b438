import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStatus, Harness, type TestUser } from '../../test/harness.js';
import { sqlitePlansOf } from '../../test/query-plans.js';

/**
 * How SQLite runs the statements of a list page, read with EXPLAIN QUERY PLAN: what makes a page cost
 * the same on a module of 100 records and of 100,000. (PostgreSQL's plans depend on its statistics; the
 * pages' results are checked on both databases elsewhere: record-list.test.ts, record-visible-pages.test.ts.)
 */
describe('list pages use an index for their order and their sharing (SQLite)', () => {
  const h = new Harness('sqlite');
  let manager: TestUser;

  beforeAll(async () => {
    await h.start();
    manager = await h.createUser({ roleId: await h.roleId('Sales Manager') });
    const shared = await h.request({
      method: 'PUT',
      url: '/api/v1/sharing-defaults',
      as: h.admin,
      payload: { Contacts: 'private' },
    });
    expectStatus(shared, 200);
    for (let i = 0; i < 3; i++) {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname: `Plan ${i}`, ...(i === 2 ? { assigned_user_id: manager.id } : {}) },
      });
      expectStatus(res, 201);
    }
  }, 60_000);
  afterAll(() => h.stop());

  /** The plans of the statements reading `crm_entities` that a request ran, one string each. */
  const plansOf = (run: () => Promise<unknown>) => sqlitePlansOf(h.ctx.db.kysely, 'crm_entities', run);

  const list = (as: TestUser | null, query: string) => async () => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Contacts?${query}`,
      as: as ? as.session : h.admin,
    });
    expectStatus(res, 200);
    return res.json() as { nextCursor: string | null };
  };

  it('the default order (-modifiedtime) walks the modified-time index instead of sorting the module', async () => {
    const [plan] = await plansOf(list(null, 'sort=-modifiedtime&limit=50'));
    expect(plan).toMatch(/crm_entities_module_modified_idx/);
    expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  });

  it("a later page starts in that index at the cursor's time", async () => {
    const first = await list(null, 'sort=-modifiedtime&limit=1')();
    expect(first.nextCursor).not.toBeNull();
    const [plan] = await plansOf(list(null, `sort=-modifiedtime&limit=1&cursor=${first.nextCursor}`));
    expect(plan).toMatch(/crm_entities_module_modified_idx \(module=\? AND modified_at<\?\)/);
  });

  it("a manager's page reads each owner's live records from the owner index, in id order", async () => {
    const [page] = await plansOf(list(manager, 'limit=10'));
    expect(page).toMatch(/LIST SUBQUERY/);
    expect(page).toMatch(/crm_entities_live_owner_idx \(module=\? AND owner_id=\?\)/);
    expect(page).not.toMatch(/SCAN e\b|TEMP B-TREE/);
  });

  it("a manager's count reads the owner index", async () => {
    const [, count] = await plansOf(list(manager, 'limit=10&count=true'));
    expect(count).toMatch(
      /^SEARCH e USING (COVERING )?INDEX crm_entities_live_owner_idx \(module=\? AND owner_id=\?\)/,
    );
  });

  it('a count reads the module table only when a filter names one of its columns', async () => {
    const [, plain] = await plansOf(list(null, 'limit=1&count=true'));
    expect(plain).toMatch(/crm_entities/);
    expect(plain).not.toMatch(/\bm\b/);
    const [, filtered] = await plansOf(list(null, 'limit=1&count=true&filter[lastname][eq]=Plan%201'));
    expect(filtered).toMatch(/\bm\b/);
  });
});
