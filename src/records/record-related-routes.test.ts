import { beforeAll, expect, it } from 'vitest';
import {
  describeEachDialect,
  errorCode,
  expectStatus,
  type Session,
  type TestUser,
} from '../../test/harness.js';

describeEachDialect('related lists over REST', (h) => {
  let org: number;
  let seller: TestUser;
  const create = async (as: Session, module: string, payload: Record<string, unknown>) => {
    const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as, payload });
    expectStatus(res, 201);
    return (res.json() as { id: number }).id;
  };
  beforeAll(async () => {
    seller = await h.createUser();
    org = await create(h.admin, 'Accounts', { accountname: 'Related Org', assigned_user_id: seller.id });
    await create(h.admin, 'Contacts', { lastname: 'Alpha', account_id: org });
    await create(h.admin, 'Contacts', { lastname: 'Beta', account_id: org });
    await create(seller.session, 'Contacts', { lastname: 'Sellers own', account_id: org });
    await create(h.admin, 'Contacts', { lastname: 'Elsewhere' });
    await create(h.admin, 'Potentials', {
      potentialname: 'Big deal',
      related_to: org,
      closingdate: '2027-01-01',
      sales_stage: 'Prospecting',
    });
    await create(h.admin, 'HelpDesk', { ticket_title: 'Broken', ticketstatus: 'Open', parent_id: org });
  }, 60_000);

  it("lists an organization's related lists with counts", async () => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Accounts/${org}/related`,
      as: h.admin,
    });
    expectStatus(res, 200);
    const items = (res.json() as { items: Array<{ module: string; total: number; fields: string[] }> }).items;
    const byModule = Object.fromEntries(items.map((i) => [i.module, i]));
    expect(byModule.Contacts).toMatchObject({ total: 3, fields: ['account_id'] });
    expect(byModule.Potentials).toMatchObject({ total: 1, fields: ['related_to'] });
    expect(byModule.HelpDesk).toMatchObject({ total: 1, fields: ['parent_id'] });
    expect(byModule.Quotes).toMatchObject({ total: 0 });
  });

  it('pages and sorts one related list, presented like any record', async () => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Accounts/${org}/related/Contacts?limit=2&sort=-lastname`,
      as: h.admin,
    });
    expectStatus(res, 200);
    const body = res.json() as { items: Array<{ lastname: string; label: string }>; total: number };
    expect(body.total).toBe(3);
    expect(body.items.map((r) => r.lastname)).toEqual(['Sellers own', 'Beta']);
    const next = await h.request({
      method: 'GET',
      url: `/api/v1/records/Accounts/${org}/related/Contacts?limit=2&offset=2&sort=lastname`,
      as: h.admin,
    });
    expect((next.json() as { items: Array<{ lastname: string }> }).items.map((r) => r.lastname)).toEqual([
      'Sellers own',
    ]);
  });

  it('shows each user only the related records they may see', async () => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Accounts/${org}/related/Contacts`,
      as: seller.session,
    });
    expectStatus(res, 200);
    expect((res.json() as { items: Array<{ lastname: string }> }).items.map((r) => r.lastname)).toEqual([
      'Sellers own',
    ]);
    const counts = await h.request({
      method: 'GET',
      url: `/api/v1/records/Accounts/${org}/related`,
      as: seller.session,
    });
    const items = (counts.json() as { items: Array<{ module: string; total: number }> }).items;
    expect(items.find((i) => i.module === 'Contacts')?.total).toBe(1);
  });

  it('answers 404 for a source record the caller cannot see and for an unknown related list', async () => {
    const hidden = await create(h.admin, 'Accounts', { accountname: 'Hidden Org' });
    const other = await h.createUser();
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Accounts/${hidden}/related`,
      as: other.session,
    });
    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('RECORD_NOT_FOUND');
    const unknown = await h.request({
      method: 'GET',
      url: `/api/v1/records/Accounts/${org}/related/Nope`,
      as: h.admin,
    });
    expect(unknown.statusCode).toBe(404);
    const bad = await h.request({
      method: 'GET',
      url: `/api/v1/records/Accounts/${org}/related/Contacts?limit=0`,
      as: h.admin,
    });
    expect(bad.statusCode).toBe(400);
  });
});
