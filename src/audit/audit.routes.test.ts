import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';

describeEachDialect('audit log', (h) => {
  it('records who created a user, from where, with which client', async () => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.created&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expectStatus(res, 200);
    const [entry] = res.json().items;
    expect(entry).toMatchObject({
      action: 'user.created',
      outcome: 'success',
      actor: { userId: h.admin.userId, username: 'admin' },
      target: { type: 'user', id: String(u.id) },
    });
    expect(entry.ip).toBe('127.0.0.1');
    expect(entry.requestId).toEqual(expect.any(String));
    expect(JSON.stringify(entry)).not.toContain(u.password);
  });

  it('filters by action prefix and pages with a cursor', async () => {
    for (let i = 0; i < 3; i++) await h.createUser();
    const first = await h.request({ method: 'GET', url: '/api/v1/audit?action=user.*&limit=2', as: h.admin });
    expect(first.json().items).toHaveLength(2);
    expect(first.json().items.every((e: { action: string }) => e.action.startsWith('user.'))).toBe(true);
    const cursor = first.json().nextCursor;
    expect(cursor).toEqual(expect.any(Number));
    const second = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.*&limit=2&before=${cursor}`,
      as: h.admin,
    });
    expect(second.json().items[0].id).toBeLessThan(cursor);
  });

  it('filters by time range', async () => {
    const future = new Date(h.clock.now() + 3_600_000).toISOString();
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/audit?from=${encodeURIComponent(future)}`,
      as: h.admin,
    });
    expect(res.json().items).toEqual([]);
  });

  it('is for admins only', async () => {
    const u = await h.createUser();
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/audit', as: u.session }), 403);
  });

  it('offers no way to change or delete entries', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      expectStatus(await h.request({ method, url: '/api/v1/audit', as: h.admin, payload: {} }), 404);
    }
  });
});
