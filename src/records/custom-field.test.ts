import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';

describeEachDialect('custom fields', (h) => {
  const addField = (module: string, payload: Record<string, unknown>, as = h.admin) =>
    h.request({ method: 'POST', url: `/api/v1/modules/${module}/fields`, as, payload });

  it('adds typed custom fields that become real columns, usable end to end', async () => {
    const tier = await addField('Contacts', {
      label: 'Tier',
      type: 'picklist',
      picklistValues: ['Gold', 'Silver'],
    });
    expectStatus(tier, 201);
    const t = tier.json();
    expect(t).toMatchObject({
      label: 'Tier',
      type: 'picklist',
      custom: true,
      picklistValues: ['Gold', 'Silver'],
    });
    expect(t.name).toMatch(/^cf_\d+$/);
    const score = (await addField('Contacts', { label: 'Score', type: 'integer' })).json();
    const tags = (
      await addField('Contacts', {
        label: 'Interests',
        type: 'multipicklist',
        picklistValues: ['A', 'B', 'C'],
      })
    ).json();
    const when = (await addField('Contacts', { label: 'Last call', type: 'datetime' })).json();
    const vip = (await addField('Contacts', { label: 'VIP', type: 'boolean' })).json();
    const org = (
      await addField('Contacts', { label: 'Partner', type: 'reference', refersTo: ['Accounts'] })
    ).json();

    const d = (await h.request({ method: 'GET', url: '/api/v1/modules/Contacts', as: h.admin })).json();
    expect(d.fields.map((x: { name: string }) => x.name)).toEqual(
      expect.arrayContaining([t.name, score.name, org.name]),
    );

    const acc = await h.request({
      method: 'POST',
      url: '/api/v1/records/Accounts',
      as: h.admin,
      payload: { accountname: 'P' },
    });
    const payload = {
      lastname: 'Custom',
      [t.name]: 'gold',
      [score.name]: '17',
      [tags.name]: ['A', 'C'],
      [when.name]: '2026-01-02 03:04:05',
      [vip.name]: 1,
      [org.name]: acc.json().id,
    };
    const res = await h.request({ method: 'POST', url: '/api/v1/records/Contacts', as: h.admin, payload });
    expectStatus(res, 201);
    expect(res.json()).toMatchObject({
      [t.name]: 'Gold',
      [score.name]: 17,
      [tags.name]: ['A', 'C'],
      [when.name]: '2026-01-02T03:04:05.000Z',
      [vip.name]: true,
      [org.name]: acc.json().id,
    });
    const list = await h.request({
      method: 'GET',
      url: `/api/v1/records/Contacts?filter[${score.name}][gte]=10&sort=-${score.name}`,
      as: h.admin,
    });
    expectStatus(list, 200);
    expect(list.json().items.map((r: { id: number }) => r.id)).toEqual([res.json().id]);
    const bad = await h.request({
      method: 'POST',
      url: '/api/v1/records/Contacts',
      as: h.admin,
      payload: { lastname: 'x', [t.name]: 'Bronze' },
    });
    expectStatus(bad, 400);
    expect(bad.json().error.message).toContain(t.name);
  });

  it('shows a field added after records were read on the next read (no stale statements)', async () => {
    const c = await h.request({
      method: 'POST',
      url: '/api/v1/records/Potentials',
      as: h.admin,
      payload: { potentialname: 'p', closingdate: '2026-01-01', sales_stage: 'Prospecting' },
    });
    expectStatus(c, 201);
    const read = () =>
      h.request({ method: 'GET', url: `/api/v1/records/Potentials/${c.json().id}`, as: h.admin });
    const before = await read();
    const added = (await addField('Potentials', { label: 'Late', type: 'string' })).json();
    expect(before.json()).not.toHaveProperty(added.name);
    const after = await read();
    expectStatus(after, 200);
    expect(after.json()).toHaveProperty(added.name, null);
    const list = await h.request({
      method: 'GET',
      url: `/api/v1/records/Potentials?filter[${added.name}][empty]=true`,
      as: h.admin,
    });
    expect(list.json().items).toHaveLength(1);
  });

  it('reads every field of a module wider than one JSON array of columns (SQLite reads 100 at a time)', async () => {
    const added: string[] = [];
    // Contacts has 44 columns of its own: 60 more make two arrays on SQLite
    for (let i = 0; i < 60; i++)
      added.push((await addField('Contacts', { label: `Wide ${i}`, type: 'string' })).json().name);
    const payload: Record<string, unknown> = { lastname: 'Wide' };
    for (const [i, name] of added.entries()) payload[name] = `v${i} "quoted" \\ é 😀`;
    const res = await h.request({ method: 'POST', url: '/api/v1/records/Contacts', as: h.admin, payload });
    expectStatus(res, 201);
    const expected = { ...payload, id: res.json().id };
    const one = await h.request({
      method: 'GET',
      url: `/api/v1/records/Contacts/${res.json().id}`,
      as: h.admin,
    });
    expect(one.json()).toMatchObject(expected);
    const list = await h.request({
      method: 'GET',
      url: '/api/v1/records/Contacts?filter[lastname]=Wide',
      as: h.admin,
    });
    expect(list.json().items).toEqual([expect.objectContaining(expected)]);
  });

  it('audits the new field in the same transaction', async () => {
    const res = await addField('Leads', { label: 'Budget', type: 'currency' });
    expectStatus(res, 201);
    const audit = await h.ctx.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'record.custom_field.created')
      .execute();
    expect(audit.map((a) => JSON.parse(a.details).name)).toContain(res.json().name);
  });

  it('makes a mandatory custom field required on create', async () => {
    const f = (await addField('HelpDesk', { label: 'Channel', type: 'string', mandatory: true })).json();
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/records/HelpDesk',
      as: h.admin,
      payload: { ticket_title: 't', ticketstatus: 'Open' },
    });
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('MANDATORY_FIELD_MISSING');
    expect(res.json().error.message).toContain(f.name);
  });

  it.each([
    ['a picklist without values', { label: 'x', type: 'picklist' }, 'CUSTOM_FIELD_INVALID'],
    [
      'a reference to an unknown module',
      { label: 'x', type: 'reference', refersTo: ['Nope'] },
      'CUSTOM_FIELD_INVALID',
    ],
    ['values on a text field', { label: 'x', type: 'string', picklistValues: ['a'] }, 'CUSTOM_FIELD_INVALID'],
    ['an owner field', { label: 'x', type: 'owner' }, 'VALIDATION_FAILED'],
    ['an empty label', { label: ' ', type: 'string' }, 'VALIDATION_FAILED'],
  ])('refuses %s', async (_name, payload, code) => {
    const res = await addField('Contacts', payload);
    expectStatus(res, 400);
    expect(errorCode(res)).toBe(code);
  });

  it('is for admins only and 404s on an unknown module', async () => {
    const u = await h.createUser();
    expectStatus(await addField('Contacts', { label: 'x', type: 'string' }, u.session), 403);
    const res = await addField('Nope', { label: 'x', type: 'string' });
    expectStatus(res, 404);
    expect(errorCode(res)).toBe('MODULE_NOT_FOUND');
  });
});
