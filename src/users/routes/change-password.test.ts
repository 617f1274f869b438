import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../../test/harness.js';

describeEachDialect('changing passwords', (h) => {
  it('a user changes their own password with the current one; their other sessions end, this one stays', async () => {
    const u = await h.createUser();
    const other = await h.login(u.username, u.password);
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users/me/password',
      as: u.session,
      payload: { currentPassword: u.password, newPassword: 'a brand new passphrase' },
    });
    expectStatus(res, 200);
    expect(res.json().sessionsEnded).toBe(1);
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: u.session }), 200);
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: other }), 401);
    await h.login(u.username, 'a brand new passphrase');
    await expect(h.login(u.username, u.password)).rejects.toThrow(/401/);
  });

  it('refuses a wrong current password, changes nothing and audits the failure', async () => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users/me/password',
      as: u.session,
      payload: { currentPassword: 'not-my-password', newPassword: 'a brand new passphrase' },
    });
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('WRONG_CURRENT_PASSWORD');
    await h.login(u.username, u.password);
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.password_changed&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expect(audit.json().items[0].outcome).toBe('failure');
    expect(audit.body).not.toContain('not-my-password');
  });

  it('requires the current password for your own account, even as an admin', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users/me/password',
      as: h.admin,
      payload: { newPassword: 'a brand new passphrase' },
    });
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('CURRENT_PASSWORD_REQUIRED');
  });

  it.each([
    ['too short', 'short-pw', /at least 12/],
    ['too long', 'x'.repeat(129), /at most 128/],
    ['common', 'Password123456', /too common/],
  ])('refuses a %s new password and names the rule', async (_name, newPassword, message) => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users/me/password',
      as: u.session,
      payload: { currentPassword: u.password, newPassword },
    });
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('PASSWORD_TOO_WEAK');
    expect(res.json().error.message).toMatch(message);
    await h.login(u.username, u.password);
  });

  it('an admin sets another user password without the old one; all their sessions end; audited without the secret', async () => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'POST',
      url: `/api/v1/users/${u.id}/password`,
      as: h.admin,
      payload: { newPassword: 'set by the administrator' },
    });
    expectStatus(res, 200);
    expect(res.json().sessionsEnded).toBe(1);
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: u.session }), 401);
    await h.login(u.username, 'set by the administrator');
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.password_changed&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expect(audit.json().items[0].details).toMatchObject({ by: 'admin', sessionsEnded: 1 });
    expect(audit.body).not.toContain('set by the administrator');
    expect(h.allLogs()).not.toContain('set by the administrator');
  });

  it('a non-admin cannot set another user password (403)', async () => {
    const u = await h.createUser();
    const other = await h.createUser();
    const res = await h.request({
      method: 'POST',
      url: `/api/v1/users/${other.id}/password`,
      as: u.session,
      payload: { newPassword: 'set by a colleague!' },
    });
    expectStatus(res, 403);
    expect(errorCode(res)).toBe('PERMISSION_DENIED');
    await h.login(other.username, other.password);
  });

  it('only the account owner sets another administrator password', async () => {
    const a = await h.createUser({ isAdmin: true });
    const b = await h.createUser({ isAdmin: true });
    const res = await h.request({
      method: 'POST',
      url: `/api/v1/users/${b.id}/password`,
      as: a.session,
      payload: { newPassword: 'take over the admin' },
    });
    expectStatus(res, 403);
    expectStatus(
      await h.request({
        method: 'POST',
        url: `/api/v1/users/${b.id}/password`,
        as: h.admin,
        payload: { newPassword: 'owner may do this one' },
      }),
      200,
    );
  });

  it('rejects unknown fields and unknown users', async () => {
    const u = await h.createUser();
    expectStatus(
      await h.request({
        method: 'POST',
        url: `/api/v1/users/${u.id}/password`,
        as: h.admin,
        payload: { newPassword: 'set by the administrator', hash: 'x' },
      }),
      400,
    );
    const missing = await h.request({
      method: 'POST',
      url: '/api/v1/users/999999/password',
      as: h.admin,
      payload: { newPassword: 'set by the administrator' },
    });
    expectStatus(missing, 404);
  });
});
