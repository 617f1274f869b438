import { beforeAll, describe, expect, it } from 'vitest';
import {
  describeEachDialect,
  errorCode,
  expectStatus,
  type Harness,
  type TestUser,
} from '../../test/harness.js';

async function setSharing(h: Harness, access: string) {
  const res = await h.request({
    method: 'PUT',
    url: '/api/v1/sharing-defaults',
    as: h.admin,
    payload: { Leads: access },
  });
  expectStatus(res, 200);
}

/** Viewer is a Sales Manager; records belong to them, a Sales Person below, another Sales Manager, and a VP above. */
describeEachDialect('record sharing', (h) => {
  let viewer: TestUser;
  let outsider: TestUser;
  const owners: Record<'own' | 'subordinate' | 'peer' | 'superior', TestUser> = {} as never;
  const leads: Record<string, number> = {};
  const tag = `co-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    viewer = await h.createUser({ roleId: await h.roleId('Sales Manager') });
    owners.own = viewer;
    owners.subordinate = await h.createUser({ roleId: await h.roleId('Sales Person') });
    owners.peer = await h.createUser({ roleId: await h.roleId('Sales Manager') });
    owners.superior = await h.createUser({ roleId: await h.roleId('Vice President') });
    const role = await h.createRole(
      'Leadless',
      { Leads: { view: false, create: false, edit: false, delete: false } },
      await h.roleId('Sales Manager'),
    );
    outsider = await h.createUser({ roleId: role.roleId });
    for (const [k, u] of Object.entries(owners)) {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/records/Leads',
        as: h.admin,
        payload: { lastname: k, company: tag, assigned_user_id: u.id },
      });
      expectStatus(res, 201);
      leads[k] = res.json().id;
    }
  });

  const get = (as: TestUser, id: number) =>
    h.request({ method: 'GET', url: `/api/v1/records/Leads/${id}`, as: as.session });
  const patch = (as: TestUser, id: number) =>
    h.request({
      method: 'PATCH',
      url: `/api/v1/records/Leads/${id}`,
      as: as.session,
      headers: { 'if-match': '"999"' },
      payload: { description: 'x' },
    });
  const visibleNames = async (as: TestUser) => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Leads?filter[company]=${tag}&count=true&sort=lastname`,
      as: as.session,
    });
    expectStatus(res, 200);
    const body = res.json();
    expect(body.total).toBe(body.items.length);
    return body.items.map((r: { lastname: string }) => r.lastname);
  };

  // view / edit outcome per owner: 200 (and 409 for the deliberately stale version on edit), 403 or 404
  const matrix: Record<string, Record<string, [number, number]>> = {
    private: { own: [200, 409], subordinate: [200, 409], peer: [404, 404], superior: [404, 404] },
    public_read: { own: [200, 409], subordinate: [200, 409], peer: [200, 403], superior: [200, 403] },
    public_read_write: { own: [200, 409], subordinate: [200, 409], peer: [200, 409], superior: [200, 409] },
  };

  for (const [access, expected] of Object.entries(matrix)) {
    describe(`with Leads ${access}`, () => {
      beforeAll(() => setSharing(h, access));
      for (const [owner, [view, edit]] of Object.entries(expected)) {
        it(`a manager ${view === 200 ? 'sees' : 'does not see'} a ${owner} lead and editing answers ${edit}`, async () => {
          const v = await get(viewer, leads[owner]!);
          expectStatus(v, view);
          const e = await patch(viewer, leads[owner]!);
          expectStatus(e, edit);
          if (edit === 403) expect(errorCode(e)).toBe('RECORD_PERMISSION_DENIED');
          if (view === 404) expect(errorCode(v)).toBe('RECORD_NOT_FOUND');
        });
      }
      it('lists and counts only what the manager may see', async () => {
        const want = Object.entries(expected)
          .filter(([, [v]]) => v === 200)
          .map(([k]) => k)
          .sort();
        expect(await visibleNames(viewer)).toEqual(want);
      });
    });
  }

  it("a subordinate does not see their superior's private records", async () => {
    await setSharing(h, 'private');
    expectStatus(await get(owners.subordinate, leads.own!), 404);
    expect(await visibleNames(owners.subordinate)).toEqual(['subordinate']);
  });

  it('an admin sees every record whatever the sharing', async () => {
    await setSharing(h, 'private');
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Leads?filter[company]=${tag}`,
      as: h.admin,
    });
    expect(res.json().items).toHaveLength(4);
  });

  it('a user without the module permission gets 403 on the module and on its records', async () => {
    for (const url of [
      '/api/v1/records/Leads',
      `/api/v1/records/Leads/${leads.own}`,
      '/api/v1/modules/Leads',
    ]) {
      const res = await h.request({ method: 'GET', url, as: outsider.session });
      expectStatus(res, 403);
      expect(errorCode(res)).toBe('MODULE_PERMISSION_DENIED');
    }
    const create = await h.request({
      method: 'POST',
      url: '/api/v1/records/Leads',
      as: outsider.session,
      payload: { lastname: 'x', company: 'y' },
    });
    expectStatus(create, 403);
    const modules = await h.request({ method: 'GET', url: '/api/v1/modules', as: outsider.session });
    expect(modules.json().items.map((m: { name: string }) => m.name)).not.toContain('Leads');
  });

  it('refuses a reference to a record the caller may not see, as if it did not exist', async () => {
    await setSharing(h, 'private');
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/records/Potentials',
      as: viewer.session,
      payload: {
        potentialname: 'p',
        closingdate: '2026-12-01',
        sales_stage: 'Prospecting',
        contact_id: leads.superior,
      },
    });
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('REFERENCE_INVALID');
  });

  it('a read-only profile cannot create, edit or delete', async () => {
    const agent = await h.createUser({ roleId: await h.roleId('Support Agent') });
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/records/Leads',
      as: agent.session,
      payload: { lastname: 'x', company: 'y' },
    });
    expectStatus(res, 403);
    expect(errorCode(res)).toBe('MODULE_PERMISSION_DENIED');
    const del = await h.request({
      method: 'DELETE',
      url: `/api/v1/records/Leads/${leads.own}`,
      as: agent.session,
    });
    expectStatus(del, 403);
  });
});
