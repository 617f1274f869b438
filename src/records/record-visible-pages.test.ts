import fc from 'fast-check';
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDialect, expectStatus, type TestUser } from '../../test/harness.js';
import { principalFor } from '../roles/principal.js';
import { findUserById } from '../users/user.repository.js';
import { selectRecords } from './record.repository.js';
import { countMatching, queryRecords, viewModule, visibleQuery } from './record-read.service.js';

/**
 * Pages of a private module for a Sales Manager, read a page per owner (`selectRecords`, `ownedBy`): they
 * must hold exactly what one statement over every record filtered by owner holds, in the same order, for
 * any sort, page size, offset and cursor. Records of the manager's subordinates are clustered in id order
 * (the case the per-owner pages exist for) and interleaved; some are deleted; lastnames repeat and some
 * titles are empty, so the order's ties and nulls are exercised.
 */
describeEachDialect('pages of an own-and-subordinates scope', (h) => {
  let manager: TestUser;
  const subordinates: TestUser[] = [];
  let peer: TestUser;
  const tag = `vp-${Math.random().toString(36).slice(2)}`;
  /** every record of the test: id and owner */
  const all: Array<{ id: number; owner: number }> = [];

  beforeAll(async () => {
    const res = await h.request({
      method: 'PUT',
      url: '/api/v1/sharing-defaults',
      as: h.admin,
      payload: { Leads: 'private' },
    });
    expectStatus(res, 200);
    manager = await h.createUser({ roleId: await h.roleId('Sales Manager') });
    for (let i = 0; i < 3; i++)
      subordinates.push(await h.createUser({ roleId: await h.roleId('Sales Person') }));
    peer = await h.createUser({ roleId: await h.roleId('Sales Manager') });
    const owners = [manager, ...subordinates, peer];
    // 30 of the peer's first, then the manager's and subordinates' among the peer's, then 10 of one subordinate
    const plan: TestUser[] = [
      ...Array.from({ length: 30 }, () => peer),
      ...Array.from({ length: 40 }, (_, i) => owners[i % owners.length]!),
      ...Array.from({ length: 10 }, () => subordinates[2]!),
    ];
    for (const [i, owner] of plan.entries()) {
      const created = await h.request({
        method: 'POST',
        url: '/api/v1/records/Leads',
        as: h.admin,
        payload: {
          lastname: `L${i % 7}`,
          company: tag,
          assigned_user_id: owner.id,
          ...(i % 3 === 0 ? {} : { designation: `T${i % 5}` }),
        },
      });
      expectStatus(created, 201);
      all.push({ id: created.json().id, owner: owner.id });
    }
    for (const i of [31, 40, 75]) {
      const del = await h.request({
        method: 'DELETE',
        url: `/api/v1/records/Leads/${all[i]!.id}`,
        as: h.admin,
      });
      expect(del.statusCode).toBe(204);
    }
  }, 120_000);

  const visibleOwners = () => new Set([manager.id, ...subordinates.map((u) => u.id)]);

  const list = async (as: TestUser | null, query: string) => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Leads?filter[company]=${tag}&${query}`,
      as: as ? as.session : h.admin,
    });
    expectStatus(res, 200);
    return res.json() as {
      items: Array<{ id: number; assigned_user_id: number }>;
      nextCursor: string | null;
    };
  };

  const sortArb = fc
    .array(
      fc.record({
        field: fc.constantFrom('lastname', 'designation', 'modifiedtime', 'id'),
        desc: fc.boolean(),
      }),
      { maxLength: 2 },
    )
    .map((keys) =>
      keys
        .filter((k, i) => keys.findIndex((x) => x.field === k.field) === i)
        .map((k) => (k.desc ? '-' : '') + k.field)
        .join(','),
    );

  it("REST pages hold the admin's list filtered by owner, for any sort and page size", async () => {
    await fc.assert(
      fc.asyncProperty(sortArb, fc.integer({ min: 1, max: 12 }), async (sort, limit) => {
        const owners = visibleOwners();
        const full = await list(null, `sort=${encodeURIComponent(sort)}&limit=200`);
        const expected = full.items.filter((r) => owners.has(r.assigned_user_id)).map((r) => r.id);
        expect(expected.length).toBeGreaterThan(20);
        const paged: number[] = [];
        let cursor: string | null = null;
        for (let guard = 0; guard < 80; guard++) {
          const page: Awaited<ReturnType<typeof list>> = await list(
            manager,
            `sort=${encodeURIComponent(sort)}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
          );
          expect(page.items.length).toBeLessThanOrEqual(limit);
          paged.push(...page.items.map((r) => r.id));
          cursor = page.nextCursor;
          if (!cursor) break;
        }
        expect(paged).toEqual(expected);
      }),
      { numRuns: 20 },
    );
  }, 120_000);

  it('offset pages, per owner and in one statement, equal the filtered list; the count agrees', async () => {
    const user = (await findUserById(h.ctx.db.kysely, manager.id))!;
    const view = await viewModule(h.ctx, await principalFor(h.ctx, user), 'Leads');
    const where = [sql<boolean>`m.company = ${tag}`];
    const live = new Set(all.filter((_, i) => ![31, 40, 75].includes(i)).map((r) => r.id));
    const owners = visibleOwners();
    const visible = all.filter((r) => live.has(r.id) && owners.has(r.owner)).map((r) => r.id);
    expect(await countMatching(h.ctx, view, where)).toBe(visible.length);
    const { where: scoped, ownedBy } = await visibleQuery(h.ctx, view, where);
    expect(ownedBy).toEqual([...owners].sort((a, b) => a - b));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: visible.length + 2 }),
        fc.integer({ min: 1, max: 15 }),
        fc.boolean(),
        async (offset, limit, desc) => {
          const order = [{ expr: sql.ref('e.id'), desc }];
          const expected = (desc ? [...visible].reverse() : visible).slice(offset, offset + limit);
          const page = await queryRecords(h.ctx, view, { where, order, limit, offset });
          expect(page.map((r) => r.id)).toEqual(expected);
          // the same through one statement filtered by the owners (the path past the per-owner budget)
          const one = await selectRecords(h.ctx.db.kysely, view.meta, scoped, {
            order,
            limit,
            offset,
            ownedBy,
            ownerPageRows: 0,
          });
          expect(one.map((r) => r.id)).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  it('a user moved out from under the manager takes their records out of the next page at once', async () => {
    const moved = subordinates[2]!;
    const before = await list(manager, 'limit=200');
    expect(before.items.some((r) => r.assigned_user_id === moved.id)).toBe(true);
    const res = await h.request({
      method: 'PATCH',
      url: `/api/v1/users/${moved.id}`,
      as: h.admin,
      payload: { roleId: await h.roleId('Sales Manager') },
    });
    expectStatus(res, 200);
    const after = await list(manager, 'limit=200');
    expect(after.items.some((r) => r.assigned_user_id === moved.id)).toBe(false);
    expect(after.items.length).toBe(before.items.filter((r) => r.assigned_user_id !== moved.id).length);
  });
});
