import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';

type Role = {
  id: number;
  name: string;
  parentId: number | null;
  depth: number;
  profileIds: number[];
  userCount: number;
};

describeEachDialect('roles, profiles and sharing defaults', (h) => {
  const roles = async (): Promise<Role[]> =>
    (await h.request({ method: 'GET', url: '/api/v1/roles', as: h.admin })).json().items;
  const byName = async (name: string) => (await roles()).find((r) => r.name === name)!;

  it('seeds the hierarchy Organization → CEO → Vice President → Sales Manager → Sales Person', async () => {
    const list = await roles();
    const chain = ['Organization', 'CEO', 'Vice President', 'Sales Manager', 'Sales Person'].map(
      (n) => list.find((r) => r.name === n)!,
    );
    expect(chain[0]!.parentId).toBeNull();
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.parentId).toBe(chain[i - 1]!.id);
    expect(chain.every((r) => r.profileIds.length > 0)).toBe(true);
  });

  it('creates a role under a parent and moves it with its subtree', async () => {
    const vp = await byName('Vice President');
    const manager = await byName('Sales Manager');
    const created = await h.request({
      method: 'POST',
      url: '/api/v1/roles',
      as: h.admin,
      payload: { name: 'Regional Lead', parentId: manager.id, profileIds: manager.profileIds },
    });
    expectStatus(created, 201);
    const lead: Role = created.json();
    expect(lead.depth).toBe(manager.depth + 1);
    const child = (
      await h.request({
        method: 'POST',
        url: '/api/v1/roles',
        as: h.admin,
        payload: { name: 'Lead Assistant', parentId: lead.id, profileIds: manager.profileIds },
      })
    ).json();
    const moved = await h.request({
      method: 'PATCH',
      url: `/api/v1/roles/${lead.id}`,
      as: h.admin,
      payload: { parentId: vp.id },
    });
    expectStatus(moved, 200);
    expect(moved.json().depth).toBe(vp.depth + 1);
    expect((await roles()).find((r) => r.id === child.id)!.depth).toBe(vp.depth + 2);
  });

  it('refuses to move a role under its own subordinate', async () => {
    const vp = await byName('Vice President');
    const manager = await byName('Sales Manager');
    const res = await h.request({
      method: 'PATCH',
      url: `/api/v1/roles/${vp.id}`,
      as: h.admin,
      payload: { parentId: manager.id },
    });
    expectStatus(res, 409);
    expect(errorCode(res)).toBe('ROLE_MOVE_INVALID');
  });

  it('deleting a role with users needs transferTo, and moves them', async () => {
    const manager = await byName('Sales Manager');
    const temp: Role = (
      await h.request({
        method: 'POST',
        url: '/api/v1/roles',
        as: h.admin,
        payload: { name: 'Temp', parentId: manager.id, profileIds: manager.profileIds },
      })
    ).json();
    const u = await h.createUser({ roleId: temp.id });
    const refused = await h.request({ method: 'DELETE', url: `/api/v1/roles/${temp.id}`, as: h.admin });
    expectStatus(refused, 409);
    expect(errorCode(refused)).toBe('ROLE_HAS_USERS');
    expectStatus(
      await h.request({
        method: 'DELETE',
        url: `/api/v1/roles/${temp.id}?transferTo=${manager.id}`,
        as: h.admin,
      }),
      204,
    );
    const moved = await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: h.admin });
    expect(moved.json().roleId).toBe(manager.id);
  });

  it('the top role cannot be deleted, nor a role with subordinates', async () => {
    const org = await byName('Organization');
    expect(
      errorCode(await h.request({ method: 'DELETE', url: `/api/v1/roles/${org.id}`, as: h.admin })),
    ).toBe('ROLE_IS_ROOT');
    const ceo = await byName('CEO');
    expect(
      errorCode(await h.request({ method: 'DELETE', url: `/api/v1/roles/${ceo.id}`, as: h.admin })),
    ).toBe('ROLE_HAS_SUBORDINATES');
  });

  it('profiles grant module permissions that users of the role receive', async () => {
    const created = await h.request({
      method: 'POST',
      url: '/api/v1/profiles',
      as: h.admin,
      payload: {
        name: 'Read-only contacts',
        permissions: { Contacts: { view: true, create: false, edit: false, delete: false } },
      },
    });
    expectStatus(created, 201);
    const profile = created.json();
    expect(profile.permissions.Leads).toEqual({ view: false, create: false, edit: false, delete: false });
    const manager = await byName('Sales Manager');
    const role: Role = (
      await h.request({
        method: 'POST',
        url: '/api/v1/roles',
        as: h.admin,
        payload: { name: 'Viewer', parentId: manager.id, profileIds: [profile.id] },
      })
    ).json();
    const u = await h.createUser({ roleId: role.id });
    const me = (await h.request({ method: 'GET', url: '/api/v1/me', as: u.session })).json();
    expect(me.permissions.Contacts).toEqual({ view: true, create: false, edit: false, delete: false });
    expect(me.permissions.Leads.view).toBe(false);

    const inUse = await h.request({ method: 'DELETE', url: `/api/v1/profiles/${profile.id}`, as: h.admin });
    expect(errorCode(inUse)).toBe('PROFILE_IN_USE');
    const patched = await h.request({
      method: 'PATCH',
      url: `/api/v1/profiles/${profile.id}`,
      as: h.admin,
      payload: { permissions: { Leads: { view: true, create: true, edit: false, delete: false } } },
    });
    expectStatus(patched, 200);
    const me2 = (await h.request({ method: 'GET', url: '/api/v1/me', as: u.session })).json();
    expect(me2.permissions.Leads).toEqual({ view: true, create: true, edit: false, delete: false });
  });

  it('rejects a profile for an unknown module', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/profiles',
      as: h.admin,
      payload: {
        name: 'Bad',
        permissions: { Spaceships: { view: true, create: true, edit: true, delete: true } },
      },
    });
    expectStatus(res, 400);
  });

  it('changes organisation-wide sharing defaults, audited', async () => {
    const res = await h.request({
      method: 'PUT',
      url: '/api/v1/sharing-defaults',
      as: h.admin,
      payload: { Leads: 'public_read' },
    });
    expectStatus(res, 200);
    expect(res.json().Leads).toBe('public_read');
    expect(res.json().Contacts).toBe('private');
    const audit = await h.request({
      method: 'GET',
      url: '/api/v1/audit?action=sharing.updated',
      as: h.admin,
    });
    expect(audit.json().items[0].details.after).toEqual({ Leads: 'public_read' });
    expectStatus(
      await h.request({
        method: 'PUT',
        url: '/api/v1/sharing-defaults',
        as: h.admin,
        payload: { Leads: 'everyone' },
      }),
      400,
    );
  });

  it('non-admins get 403 on every role route', async () => {
    const u = await h.createUser();
    for (const [method, url] of [
      ['GET', '/api/v1/roles'],
      ['GET', '/api/v1/profiles'],
      ['PUT', '/api/v1/sharing-defaults'],
    ] as const) {
      const res = await h.request({ method, url, as: u.session, payload: method === 'PUT' ? {} : undefined });
      expectStatus(res, 403);
    }
  });
});
