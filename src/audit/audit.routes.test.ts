import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, describeEachDialect, expectStatus } from '../../test/harness.js';

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

  it('names people: actor and user targets carry their full names', async () => {
    const u = await h.createUser({ firstName: 'Nora', lastName: 'Named' });
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.created&targetId=${u.id}`,
      as: h.admin,
    });
    const [entry] = res.json().items;
    expect(entry.actor.name).toEqual(expect.any(String));
    expect(entry.target).toMatchObject({ id: String(u.id), label: `Nora Named (${u.username})` });
    expect(entry.actingAs).toBeNull();
  });

  it('an action taken while logged in as a user names the administrator as actor, acting as the user', async () => {
    const owner = await h.login('admin', ADMIN_PASSWORD);
    const u = await h.createUser({ firstName: 'Ava', lastName: 'Actedas' });
    expectStatus(
      await h.request({ method: 'POST', url: `/api/v1/users/${u.id}/impersonate`, as: owner }),
      200,
    );
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: '/api/v1/users/me',
        as: owner,
        payload: { firstName: 'Avis' },
      }),
      200,
    );
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.updated&targetId=${u.id}`,
      as: h.admin,
    });
    const [entry] = res.json().items;
    expect(entry.actor).toMatchObject({ userId: h.admin.userId, username: 'admin' });
    expect(entry.actingAs).toEqual({ userId: u.id, username: u.username, name: 'Avis Actedas' });
    const requests = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=impersonation.request&targetId=${u.id}&actorUserId=${h.admin.userId}`,
      as: h.admin,
    });
    expect(requests.json().items[0].actingAs).toMatchObject({ userId: u.id, name: 'Avis Actedas' });
    await h.request({ method: 'POST', url: '/api/v1/auth/stop-impersonating', as: owner });
  });

  it('exports the filtered entries as CSV, with formulas defused; the export is audited', async () => {
    const u = await h.createUser({ firstName: '=cmd', lastName: 'Exported' });
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/audit/export.csv?action=user.created&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expectStatus(res, 200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.headers['content-disposition']).toMatch(
      /attachment; filename="audit-log-\d{4}-\d{2}-\d{2}\.csv"/,
    );
    const lines = res.body.trim().split('\n');
    expect(lines[0]).toBe('When,Who,Logged in as,Action,Outcome,Target,Details,IP,Request ID');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('user.created');
    expect(lines[1]).toContain(`'=cmd Exported (${u.username})`);
    const audit = await h.request({ method: 'GET', url: '/api/v1/audit?action=audit.exported', as: h.admin });
    expect(audit.json().items[0]).toMatchObject({
      actor: { userId: h.admin.userId },
      details: { rows: 1, filters: { action: 'user.created', targetId: String(u.id) } },
    });
    const other = await h.createUser();
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/audit/export.csv', as: other.session }), 403);
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
