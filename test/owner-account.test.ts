import { expect, it } from 'vitest';
import { ownerGuardFor } from '../src/users/owner-guard.js';
import { ADMIN_PASSWORD, describeEachDialect, errorCode, expectStatus } from './harness.js';

/**
 * Issue 14, finding 1: only the account owner changes the owner's account. Every route under /users/:id
 * is tried by another administrator against the owner, with a body that would succeed on anyone else.
 */
const OTHER_ADMIN_ON_OWNER: Record<
  string,
  { payload?: unknown; query?: string; status: number; code?: string }
> = {
  'GET /api/v1/users/:id': { status: 200 },
  'PATCH /api/v1/users/:id': { payload: { lastName: 'Renamed by an admin' }, status: 403 },
  'DELETE /api/v1/users/:id': { query: '?transferTo=1', status: 409, code: 'CANNOT_DELETE_OWNER' },
  'POST /api/v1/users/:id/restore': { status: 409, code: 'USER_NOT_DELETED' },
  'POST /api/v1/users/:id/password': { payload: { newPassword: 'taken over by an admin' }, status: 403 },
  'GET /api/v1/users/:id/access-key': { status: 403 },
  'POST /api/v1/users/:id/access-key/regenerate': { status: 403 },
  'DELETE /api/v1/users/:id/access-key': { status: 403 },
  'PUT /api/v1/users/:id/api-access': { payload: { enabled: false }, status: 403 },
  'POST /api/v1/users/:id/verification-email': { status: 403 },
  'POST /api/v1/users/:id/impersonate': { status: 403 },
  'POST /api/v1/users/:id/impersonation-requests': { payload: { reason: 'take over' }, status: 403 },
  'POST /api/v1/users/:id/ownership': { payload: { currentPassword: 'x' }, status: 403 },
  // API Management's view of a user's webhooks: URLs and states, never a secret
  'GET /api/v1/users/:id/webhooks': { status: 200 },
};

describeEachDialect('the account owner', (h) => {
  const ownerId = () => h.admin.userId;

  it('every route under /users/:id is listed here, and the guard covers the ones that change a user', () => {
    const routes = h.app.registeredRoutes
      .filter((r) => r.url.startsWith('/api/v1/users/:id'))
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(routes).toEqual(Object.keys(OTHER_ADMIN_ON_OWNER).sort());
    for (const [route, want] of Object.entries(OTHER_ADMIN_ON_OWNER)) {
      const [method, url] = route.split(' ') as [string, string];
      const guarded = ownerGuardFor(method, url) !== undefined || url.endsWith('/ownership');
      expect(guarded, route).toBe(want.status === 403);
    }
  });

  it('another administrator can do none of it to the owner, and nothing changes', async () => {
    const other = await h.createUser({ isAdmin: true });
    const before = (
      await h.request({ method: 'GET', url: `/api/v1/users/${ownerId()}`, as: h.admin })
    ).json();
    for (const [route, want] of Object.entries(OTHER_ADMIN_ON_OWNER)) {
      const [method, url] = route.split(' ') as [string, string];
      const res = await h.request({
        method: method as 'GET',
        url: url.replace(':id', String(ownerId())) + (want.query ?? ''),
        as: other.session,
        ...(want.payload !== undefined ? { payload: want.payload as object } : {}),
      });
      expect(`${route} → ${res.statusCode} ${errorCode(res) ?? ''}`).toBe(
        `${route} → ${want.status} ${want.code ?? (want.status === 403 ? 'PERMISSION_DENIED' : '')}`,
      );
    }
    const after = (await h.request({ method: 'GET', url: `/api/v1/users/${ownerId()}`, as: h.admin })).json();
    expect(after).toEqual(before);
    await h.login('admin', ADMIN_PASSWORD);
    // the status of the owner's key (not the key) is still visible to admins
    const status = await h.request({
      method: 'GET',
      url: `/api/v1/users/${ownerId()}/access-key?reveal=false`,
      as: other.session,
    });
    expectStatus(status, 200);
    expect(status.json().accessKey).toBeNull();
  });

  it('the takeover of the probe fails: demote, deactivate, set the password, promote', async () => {
    const other = await h.createUser({ isAdmin: true });
    const patch = (payload: object) =>
      h.request({ method: 'PATCH', url: `/api/v1/users/${ownerId()}`, as: other.session, payload });
    expectStatus(await patch({ isAdmin: false }), 403);
    expectStatus(await patch({ status: 'Inactive' }), 403);
    expectStatus(await patch({ email: 'attacker@example.com' }), 403);
    expectStatus(
      await h.request({
        method: 'POST',
        url: `/api/v1/users/${ownerId()}/password`,
        as: other.session,
        payload: { newPassword: 'taken over by an admin' },
      }),
      403,
    );
    await expect(h.login('admin', 'taken over by an admin')).rejects.toThrow(/401/);
    await h.login('admin', ADMIN_PASSWORD);
    // with a key: another admin's key passes no owner check either
    const key = await h.accessKey(other.session);
    const byKey = await h.request({
      method: 'GET',
      url: `/api/v1/users/${ownerId()}/access-key`,
      headers: { authorization: `Bearer ${key}` },
    });
    expectStatus(byKey, 403);
  });

  it('the owner still manages their own account and other administrators', async () => {
    const other = await h.createUser({ isAdmin: true });
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: `/api/v1/users/${ownerId()}`,
        as: h.admin,
        payload: { firstName: 'Olga' },
      }),
      200,
    );
    expectStatus(await h.request({ method: 'GET', url: `/api/v1/users/me/access-key`, as: h.admin }), 200);
    expectStatus(
      await h.request({
        method: 'POST',
        url: `/api/v1/users/${other.id}/password`,
        as: h.admin,
        payload: { newPassword: 'set by the owner, fine' },
      }),
      200,
    );
    // the owner cannot demote themselves: ownership must be handed over first
    const self = await h.request({
      method: 'PATCH',
      url: `/api/v1/users/me`,
      as: h.admin,
      payload: { isAdmin: false },
    });
    expectStatus(self, 409);
  });

  it('ownership moves only by the owner, with their password, to an active administrator', async () => {
    const plain = await h.createUser();
    const heir = await h.createUser({ isAdmin: true });
    const transfer = (to: number, as: typeof h.admin, currentPassword: string) =>
      h.request({
        method: 'POST',
        url: `/api/v1/users/${to}/ownership`,
        as,
        payload: { currentPassword },
      });
    expectStatus(await transfer(heir.id, heir.session, heir.password), 403);
    expect(errorCode(await transfer(plain.id, h.admin, ADMIN_PASSWORD))).toBe('TRANSFER_TARGET_INVALID');
    expect(errorCode(await transfer(heir.id, h.admin, 'wrong password'))).toBe('WRONG_CURRENT_PASSWORD');
    const ok = await transfer(heir.id, h.admin, ADMIN_PASSWORD);
    expectStatus(ok, 200);
    expect(ok.json().owner).toMatchObject({ id: heir.id, isOwner: true });
    expect(ok.json().previousOwner).toMatchObject({ id: ownerId(), isOwner: false, isAdmin: true });
    const users = (await h.request({ method: 'GET', url: '/api/v1/users?limit=200', as: h.admin })).json();
    expect(
      users.items.filter((u: { isOwner: boolean }) => u.isOwner).map((u: { id: number }) => u.id),
    ).toEqual([heir.id]);
    // the former owner is now just another admin: the new owner is out of their reach, and vice versa not
    expectStatus(
      await h.request({
        method: 'POST',
        url: `/api/v1/users/${heir.id}/password`,
        as: h.admin,
        payload: { newPassword: 'old owner tries this' },
      }),
      403,
    );
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: `/api/v1/users/${ownerId()}`,
        as: heir.session,
        payload: { lastName: 'Formerly the owner' },
      }),
      200,
    );
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.ownership_transferred`,
      as: heir.session,
    });
    expect(audit.json().items.map((i: { outcome: string }) => i.outcome)).toEqual(['success', 'failure']);
    // hand it back so the harness's admin stays the owner
    expectStatus(await transfer(ownerId(), heir.session, heir.password), 200);
  });
});
