import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';

describeEachDialect('users', (h) => {
  it('an admin creates a user who can then sign in', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users',
      as: h.admin,
      payload: {
        username: 'jane.doe',
        password: 'a-long-enough-password',
        firstName: 'Jane',
        lastName: 'Doe',
        email: 'jane@example.com',
      },
    });
    expectStatus(res, 201);
    const user = res.json();
    expect(user).toMatchObject({
      id: expect.any(Number),
      username: 'jane.doe',
      firstName: 'Jane',
      lastName: 'Doe',
      email: 'jane@example.com',
      status: 'Active',
      isAdmin: false,
    });
    expect(user.roleName).toBe('Sales Person');
    expect(JSON.stringify(user)).not.toMatch(/password|hash/i);
    const s = await h.login('jane.doe', 'a-long-enough-password');
    expect(s.userId).toBe(user.id);
  });

  it('refuses a username that differs only in case (409)', async () => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users',
      as: h.admin,
      payload: {
        username: u.username.toUpperCase(),
        password: 'another-long-password',
        lastName: 'X',
        email: 'x@example.com',
      },
    });
    expectStatus(res, 409);
    expect(errorCode(res)).toBe('USERNAME_TAKEN');
  });

  it('refuses a short password and names the rule', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users',
      as: h.admin,
      payload: { username: 'shorty', password: 'short', lastName: 'X', email: 'x@example.com' },
    });
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('PASSWORD_TOO_WEAK');
    expect(res.json().error.message).toMatch(/12 characters/);
  });

  it('validation errors name the field', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users',
      as: h.admin,
      payload: { username: 'ok', password: 'a-long-enough-password', lastName: 'X', email: 'not-an-email' },
    });
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('VALIDATION_FAILED');
    expect(res.json().error.message).toContain('email');
  });

  it('a non-admin cannot create users (403)', async () => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users',
      as: u.session,
      payload: {
        username: 'sneaky',
        password: 'a-long-enough-password',
        lastName: 'X',
        email: 'x@example.com',
      },
    });
    expectStatus(res, 403);
    expect(errorCode(res)).toBe('PERMISSION_DENIED');
  });

  it('lists users with paging and search', async () => {
    const a = await h.createUser({ firstName: 'Zebulon' });
    const res = await h.request({ method: 'GET', url: '/api/v1/users?search=zebu', as: h.admin });
    expectStatus(res, 200);
    expect(res.json().items.map((u: { id: number }) => u.id)).toEqual([a.id]);
    const page = await h.request({ method: 'GET', url: '/api/v1/users?limit=1&offset=0', as: h.admin });
    expect(page.json().items).toHaveLength(1);
    expect(page.json().total).toBeGreaterThan(1);
  });

  it('search treats % and _ literally', async () => {
    const res = await h.request({ method: 'GET', url: '/api/v1/users?search=%25', as: h.admin });
    expectStatus(res, 200);
    expect(res.json().items).toEqual([]);
  });

  it('a user edits their own names and preferences via /users/me', async () => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'PATCH',
      url: '/api/v1/users/me',
      as: u.session,
      payload: { firstName: 'New', timeZone: 'Europe/Berlin', dateFormat: 'dd-mm-yyyy', language: 'de_de' },
    });
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({
      firstName: 'New',
      timeZone: 'Europe/Berlin',
      dateFormat: 'dd-mm-yyyy',
      language: 'de_de',
    });
  });

  it('a user cannot make themselves admin or edit someone else', async () => {
    const u = await h.createUser();
    const other = await h.createUser();
    const self = await h.request({
      method: 'PATCH',
      url: '/api/v1/users/me',
      as: u.session,
      payload: { isAdmin: true },
    });
    expectStatus(self, 403);
    expect(res403Message(self)).toContain('isAdmin');
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: `/api/v1/users/${other.id}`,
        as: u.session,
        payload: { firstName: 'Hacked' },
      }),
      403,
    );
  });

  it('rejects an unknown time zone and unknown fields', async () => {
    const u = await h.createUser();
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: '/api/v1/users/me',
        as: u.session,
        payload: { timeZone: 'Mars/Olympus' },
      }),
      400,
    );
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: '/api/v1/users/me',
        as: u.session,
        payload: { passwordHash: 'x' },
      }),
      400,
    );
  });

  it('an admin changes role, admin flag and username; the change is audited', async () => {
    const u = await h.createUser();
    const roles = (await h.request({ method: 'GET', url: '/api/v1/roles', as: h.admin })).json().items;
    const manager = roles.find((r: { name: string }) => r.name === 'Sales Manager');
    const res = await h.request({
      method: 'PATCH',
      url: `/api/v1/users/${u.id}`,
      as: h.admin,
      payload: { roleId: manager.id, isAdmin: true, username: `${u.username}-renamed` },
    });
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({
      roleId: manager.id,
      roleName: 'Sales Manager',
      isAdmin: true,
      username: `${u.username}-renamed`,
    });
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.updated&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expect(audit.json().items[0].details.changes.roleId.to).toBe(manager.id);
  });

  it('an admin cannot deactivate or demote themselves, and the last admin stays', async () => {
    const self = await h.request({
      method: 'PATCH',
      url: '/api/v1/users/me',
      as: h.admin,
      payload: { isAdmin: false },
    });
    expectStatus(self, 409);
    expect(errorCode(self)).toBe('CANNOT_CHANGE_OWN_ACCESS');
  });

  it('unknown users are 404', async () => {
    const res = await h.request({ method: 'GET', url: '/api/v1/users/999999', as: h.admin });
    expectStatus(res, 404);
    expect(errorCode(res)).toBe('USER_NOT_FOUND');
  });

  it('never answers arbitrary create bodies with a 5xx and never creates a user from a bad one', async () => {
    const before = (await h.request({ method: 'GET', url: '/api/v1/users?limit=1', as: h.admin })).json()
      .total;
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            username: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
            password: fc.oneof(fc.string({ maxLength: 11 }), fc.integer()),
            lastName: fc.anything(),
            email: fc.oneof(fc.string(), fc.constant("x' OR 1=1 --")),
          },
          { requiredKeys: [] },
        ),
        async (payload) => {
          const res = await h.request({ method: 'POST', url: '/api/v1/users', as: h.admin, payload });
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
    expect((await h.request({ method: 'GET', url: '/api/v1/users?limit=1', as: h.admin })).json().total).toBe(
      before,
    );
  });
});

function res403Message(res: { json(): unknown }): string {
  return (res.json() as { error: { message: string } }).error.message;
}
