import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../../test/harness.js';

describeEachDialect('changing a username', (h) => {
  const rename = (id: number, username: string, as = h.admin) =>
    h.request({ method: 'PATCH', url: `/api/v1/users/${id}`, as, payload: { username } });

  it('an admin renames a user; the response warns about web-service integrations; audited', async () => {
    const u = await h.createUser();
    const res = await rename(u.id, `${u.username}.new`);
    expectStatus(res, 200);
    expect(res.json().username).toBe(`${u.username}.new`);
    expect(res.json().warnings).toEqual([
      expect.stringMatching(/Web-service integrations sign in with the username/),
    ]);
    await h.login(`${u.username}.new`, u.password);
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.username_changed&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expect(audit.json().items[0].details).toEqual({ from: u.username, to: `${u.username}.new` });
  });

  it('other changes carry an empty warnings list', async () => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'PATCH',
      url: '/api/v1/users/me',
      as: u.session,
      payload: { firstName: 'Ann' },
    });
    expectStatus(res, 200);
    expect(res.json().warnings).toEqual([]);
  });

  it('refuses a name taken by another user in any case, and a user cannot rename themselves', async () => {
    const u = await h.createUser();
    const other = await h.createUser();
    const taken = await rename(u.id, other.username.toUpperCase());
    expectStatus(taken, 409);
    expect(errorCode(taken)).toBe('USERNAME_TAKEN');
    const self = await rename(u.id, 'my-own-choice', u.session);
    expectStatus(self, 403);
  });

  it('only the account owner renames another admin, and nobody else renames the owner', async () => {
    const a = await h.createUser({ isAdmin: true });
    const b = await h.createUser({ isAdmin: true });
    expectStatus(await rename(b.id, `${b.username}-x`, a.session), 403);
    expectStatus(await rename(h.admin.userId, 'not-the-admin', a.session), 403);
    expectStatus(await rename(b.id, `${b.username}-x`), 200);
    expectStatus(await rename(a.id, `${a.username}-self`, a.session), 200);
  });

  it('only the account owner changes another admin email address (it receives reset links)', async () => {
    const a = await h.createUser({ isAdmin: true });
    const b = await h.createUser({ isAdmin: true });
    const patch = (as: typeof h.admin) =>
      h.request({
        method: 'PATCH',
        url: `/api/v1/users/${b.id}`,
        as,
        payload: { email: 'attacker@example.com' },
      });
    expectStatus(await patch(a.session), 403);
    expectStatus(await patch(h.admin), 200);
  });

  it('rejects invalid usernames with 400', async () => {
    const u = await h.createUser();
    expectStatus(await rename(u.id, 'has space'), 400);
    expectStatus(await rename(u.id, ''), 400);
  });
});
