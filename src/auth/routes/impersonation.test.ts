import { expect, it } from 'vitest';
import {
  ADMIN_PASSWORD,
  describeEachDialect,
  errorCode,
  expectStatus,
  type Session,
} from '../../../test/harness.js';
import { saveSettingsSection } from '../../settings/settings.repository.js';

describeEachDialect('log in as another user', (h) => {
  // each test signs the owner in afresh: impersonating switches that very session
  const ownerSession = () => h.login('admin', ADMIN_PASSWORD);
  const impersonate = (as: Session, id: number) =>
    h.request({ method: 'POST', url: `/api/v1/users/${id}/impersonate`, as });
  const me = async (as: Session) => (await h.request({ method: 'GET', url: '/api/v1/me', as })).json();

  it('an admin logs in as a user; /me shows the user and who is behind it, for at most 1 hour', async () => {
    const admin = await ownerSession();
    const u = await h.createUser();
    const res = await impersonate(admin, u.id);
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({
      user: { id: u.id },
      impersonatedBy: { id: h.admin.userId, username: 'admin' },
      endsAt: new Date(h.clock.now() + 3_600_000).toISOString(),
    });
    const who = await me(admin);
    expect(who.user.id).toBe(u.id);
    expect(who.impersonatedBy).toEqual({ id: h.admin.userId, username: 'admin' });
    expect(who.impersonationEndsAt).toBe(new Date(h.clock.now() + 3_600_000).toISOString());
  });

  it('every request made while logged in as is audited with both users', async () => {
    const admin = await ownerSession();
    const u = await h.createUser();
    expectStatus(await impersonate(admin, u.id), 200);
    await h.request({ method: 'GET', url: `/api/v1/users/${u.id}?probe=1`, as: admin });
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=impersonation.request&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    const entry = audit.json().items[0];
    expect(entry).toMatchObject({ actor: { userId: h.admin.userId } });
    expect(entry.details).toMatchObject({
      actingAs: { id: u.id, username: u.username },
      method: 'GET',
      status: 200,
    });
    expect(entry.details.url).toContain('probe=1');
  });

  it('while logged in as: no password change, no further log in as, no answering consent requests', async () => {
    const admin = await ownerSession();
    const otherAdmin = await h.createUser({ isAdmin: true });
    const u = await h.createUser();
    expectStatus(await impersonate(admin, otherAdmin.id), 200);
    const pw = await h.request({
      method: 'POST',
      url: '/api/v1/users/me/password',
      as: admin,
      payload: { currentPassword: otherAdmin.password, newPassword: 'hijacked password!' },
    });
    expectStatus(pw, 403);
    expect(errorCode(pw)).toBe('NOT_WHILE_IMPERSONATING');
    const pwOther = await h.request({
      method: 'POST',
      url: `/api/v1/users/${u.id}/password`,
      as: admin,
      payload: { newPassword: 'hijacked password!' },
    });
    expect(errorCode(pwOther)).toBe('NOT_WHILE_IMPERSONATING');
    const again = await impersonate(admin, u.id);
    expectStatus(again, 403);
    expect(errorCode(again)).toBe('NOT_WHILE_IMPERSONATING');
    const approve = await h.request({
      method: 'POST',
      url: '/api/v1/impersonation-requests/1/approve',
      as: admin,
    });
    expect(errorCode(approve)).toBe('NOT_WHILE_IMPERSONATING');
    await h.login(otherAdmin.username, otherAdmin.password);
  });

  it('stop-impersonating returns to the admin own account; without impersonation it is refused', async () => {
    const admin = await ownerSession();
    const u = await h.createUser();
    expectStatus(await impersonate(admin, u.id), 200);
    const res = await h.request({ method: 'POST', url: '/api/v1/auth/stop-impersonating', as: admin });
    expectStatus(res, 200);
    expect(res.json().user.id).toBe(h.admin.userId);
    const who = await me(admin);
    expect(who).toMatchObject({
      user: { id: h.admin.userId },
      impersonatedBy: null,
      impersonationEndsAt: null,
    });
    const again = await h.request({ method: 'POST', url: '/api/v1/auth/stop-impersonating', as: admin });
    expectStatus(again, 409);
    expect(errorCode(again)).toBe('NOT_IMPERSONATING');
  });

  it('after 1 hour the session returns to the admin and the late request is refused, not run as anyone', async () => {
    const admin = await ownerSession();
    const u = await h.createUser();
    expectStatus(await impersonate(admin, u.id), 200);
    h.clock.advance(3_600_000);
    const late = await h.request({
      method: 'PATCH',
      url: '/api/v1/users/me',
      as: admin,
      payload: { firstName: 'Late' },
    });
    expectStatus(late, 409);
    expect(errorCode(late)).toBe('IMPERSONATION_ENDED');
    const who = await me(admin);
    expect(who.user.id).toBe(h.admin.userId);
    expect(who.impersonatedBy).toBeNull();
    const target = await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: admin });
    expect(target.json().firstName).not.toBe('Late');
  });

  it('only the account owner logs in as another admin; non-admins cannot at all; not yourself, not inactive users', async () => {
    const a = await h.createUser({ isAdmin: true });
    const b = await h.createUser({ isAdmin: true });
    const plain = await h.createUser();
    const denied = await impersonate(a.session, b.id);
    expectStatus(denied, 409);
    expect(errorCode(denied)).toBe('CANNOT_IMPERSONATE');
    expectStatus(await impersonate(plain.session, a.id), 403);
    expect(errorCode(await impersonate(a.session, a.id))).toBe('CANNOT_IMPERSONATE');
    const inactive = await h.createUser();
    await h.request({
      method: 'PATCH',
      url: `/api/v1/users/${inactive.id}`,
      as: h.admin,
      payload: { status: 'Inactive' },
    });
    expect(errorCode(await impersonate(a.session, inactive.id))).toBe('CANNOT_IMPERSONATE');
    expectStatus(await impersonate(await ownerSession(), b.id), 200);
  });

  it('ending the admin sessions (password change) ends their log-in-as sessions too', async () => {
    const a = await h.createUser({ isAdmin: true });
    const working = await h.login(a.username, a.password);
    const u = await h.createUser();
    expectStatus(await impersonate(working, u.id), 200);
    expectStatus(
      await h.request({
        method: 'POST',
        url: '/api/v1/users/me/password',
        as: a.session,
        payload: { currentPassword: a.password, newPassword: 'fresh admin password' },
      }),
      200,
    );
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: working }), 401);
  });

  it('with consent required, the user must approve first; an approval allows one start', async () => {
    await saveSettingsSection(
      h.ctx.db.kysely,
      'impersonation',
      { requireConsent: true, maxMinutes: 30 },
      null,
      h.clock.now(),
    );
    try {
      const admin = await ownerSession();
      const u = await h.createUser();
      const refused = await impersonate(admin, u.id);
      expectStatus(refused, 403);
      expect(errorCode(refused)).toBe('CONSENT_REQUIRED');
      const asked = await h.request({
        method: 'POST',
        url: `/api/v1/users/${u.id}/impersonation-requests`,
        as: admin,
        payload: { reason: 'set up your dashboard' },
      });
      expectStatus(asked, 201);
      const requestId = asked.json().id;
      const listed = await h.request({ method: 'GET', url: '/api/v1/impersonation-requests', as: u.session });
      expect(listed.json().items[0]).toMatchObject({
        id: requestId,
        status: 'pending',
        reason: 'set up your dashboard',
      });
      const stranger = await h.createUser();
      const notYours = await h.request({
        method: 'POST',
        url: `/api/v1/impersonation-requests/${requestId}/approve`,
        as: stranger.session,
      });
      expectStatus(notYours, 404);
      expectStatus(
        await h.request({
          method: 'POST',
          url: `/api/v1/impersonation-requests/${requestId}/approve`,
          as: u.session,
        }),
        200,
      );
      const started = await impersonate(admin, u.id);
      expectStatus(started, 200);
      expect(started.json().endsAt).toBe(new Date(h.clock.now() + 30 * 60_000).toISOString());
      await h.request({ method: 'POST', url: '/api/v1/auth/stop-impersonating', as: admin });
      expect(errorCode(await impersonate(admin, u.id))).toBe('CONSENT_REQUIRED');
      const second = await h.request({
        method: 'POST',
        url: `/api/v1/users/${u.id}/impersonation-requests`,
        as: admin,
        payload: { reason: 'again' },
      });
      expectStatus(
        await h.request({
          method: 'POST',
          url: `/api/v1/impersonation-requests/${second.json().id}/deny`,
          as: u.session,
        }),
        200,
      );
      expect(errorCode(await impersonate(admin, u.id))).toBe('CONSENT_REQUIRED');
      const twice = await h.request({
        method: 'POST',
        url: `/api/v1/impersonation-requests/${second.json().id}/approve`,
        as: u.session,
      });
      expectStatus(twice, 409);
    } finally {
      await h.ctx.db.kysely.deleteFrom('settings').where('key', '=', 'impersonation').execute();
    }
  });
});
