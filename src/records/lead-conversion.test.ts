import { beforeAll, expect, it } from 'vitest';
import { describeEachDialect, expectStatus, type Harness } from '../../test/harness.js';
import { WsKit, type WsResponse } from '../../test/ws-kit.js';

const ok = (res: WsResponse) => {
  if (!res.json?.success) throw new Error(`expected success, got ${res.status} ${res.body}`);
  return res.json.result;
};

async function newLead(h: Harness, fields: Record<string, unknown> = {}): Promise<number> {
  const res = await h.request({
    method: 'POST',
    url: '/api/v1/records/Leads',
    as: h.admin,
    payload: {
      firstname: 'Grace',
      lastname: 'Hopper',
      company: `Navy ${Math.random().toString(36).slice(2, 8)}`,
      email: 'grace@example.com',
      phone: '+1 555 0100',
      designation: 'Rear Admiral',
      leadsource: 'Web Site',
      city: 'Arlington',
      ...fields,
    },
  });
  expectStatus(res, 201);
  return res.json().id;
}

describeEachDialect('lead conversion (REST and web services), retrieve_inventory, extendsession', (h) => {
  const ws = new WsKit(h);
  let session: string;

  beforeAll(async () => {
    await ws.start();
    session = await ws.login('admin', h.admin.userId);
  });

  it('converts a lead over REST into an organization, a contact and a deal in one change', async () => {
    const leadId = await newLead(h);
    const res = await h.request({
      method: 'POST',
      url: `/api/v1/records/Leads/${leadId}/convert`,
      as: h.admin,
      payload: {
        account: {},
        contact: {},
        potential: { closingdate: '2027-03-31', amount: 12000 },
      },
    });
    expectStatus(res, 201);
    const done = res.json();
    expect(done).toMatchObject({ leadId, accountCreated: true, convertedBy: h.admin.userId });

    const get = async (module: string, id: number) => {
      const r = await h.request({ method: 'GET', url: `/api/v1/records/${module}/${id}`, as: h.admin });
      expectStatus(r, 200);
      return r.json();
    };
    const lead = await get('Leads', leadId);
    const account = await get('Accounts', done.accountId);
    const contact = await get('Contacts', done.contactId);
    const deal = await get('Potentials', done.potentialId);
    expect(lead.converted).toBe(true);
    expect(account).toMatchObject({
      accountname: lead.company,
      bill_city: 'Arlington',
      email1: 'grace@example.com',
    });
    expect(contact).toMatchObject({
      firstname: 'Grace',
      lastname: 'Hopper',
      title: 'Rear Admiral',
      email: 'grace@example.com',
      account_id: done.accountId,
      mailingcity: 'Arlington',
    });
    expect(deal).toMatchObject({
      potentialname: lead.company,
      amount: 12000,
      closingdate: '2027-03-31',
      sales_stage: 'Prospecting',
      related_to: done.accountId,
      contact_id: done.contactId,
      isconvertedfromlead: true,
    });

    // every write is in its record's history, through the same channel
    const history = await h.request({
      method: 'GET',
      url: `/api/v1/records/Leads/${leadId}/history`,
      as: h.admin,
    });
    expect(history.json().items[0]).toMatchObject({
      action: 'updated',
      channel: 'web',
      changes: [{ field: 'converted', old: false, new: true }],
    });
    const events = await h.ctx.db.kysely
      .selectFrom('domain_events')
      .select(['type', 'record_id'])
      .where('record_id', 'in', [leadId, done.accountId, done.contactId, done.potentialId])
      .execute();
    // the lead's creation, the three new records, and the lead's update
    expect(events.map((e) => e.type).sort()).toEqual([
      'record.created',
      'record.created',
      'record.created',
      'record.created',
      'record.updated',
    ]);

    const conversion = await h.request({
      method: 'GET',
      url: `/api/v1/records/Leads/${leadId}/conversion`,
      as: h.admin,
    });
    expectStatus(conversion, 200);
    expect(conversion.json()).toMatchObject({
      accountId: done.accountId,
      contactId: done.contactId,
      potentialId: done.potentialId,
    });

    // a second conversion is refused and changes nothing
    const again = await h.request({
      method: 'POST',
      url: `/api/v1/records/Leads/${leadId}/convert`,
      as: h.admin,
      payload: { contact: {} },
    });
    expectStatus(again, 409);
    expect(again.json().error.code).toBe('LEAD_ALREADY_CONVERTED');
  });

  it('links an existing organization with the same name instead of creating a second one', async () => {
    const company = `Existing ${Date.now()}`;
    const acc = await h.request({
      method: 'POST',
      url: '/api/v1/records/Accounts',
      as: h.admin,
      payload: { accountname: company },
    });
    expectStatus(acc, 201);
    const leadId = await newLead(h, { company });
    const res = await h.request({
      method: 'POST',
      url: `/api/v1/records/Leads/${leadId}/convert`,
      as: h.admin,
      payload: { account: {}, contact: {} },
    });
    expectStatus(res, 201);
    expect(res.json()).toMatchObject({ accountId: acc.json().id, accountCreated: false });
  });

  it('rolls the whole conversion back when one record cannot be made, and says why', async () => {
    const leadId = await newLead(h);
    const before = await h.ctx.db.kysely
      .selectFrom('crm_entities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const res = await h.request({
      method: 'POST',
      url: `/api/v1/records/Leads/${leadId}/convert`,
      as: h.admin,
      // a deal needs an expected close date; the organization and contact made before it are undone
      payload: { account: {}, contact: {}, potential: {} },
    });
    expectStatus(res, 400);
    expect(res.json().error).toMatchObject({
      code: 'MANDATORY_FIELD_MISSING',
      details: { field: 'closingdate' },
    });
    const after = await h.ctx.db.kysely
      .selectFrom('crm_entities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    const lead = await h.request({ method: 'GET', url: `/api/v1/records/Leads/${leadId}`, as: h.admin });
    expect(lead.json().converted).toBe(false);

    const neither = await h.request({
      method: 'POST',
      url: `/api/v1/records/Leads/${leadId}/convert`,
      as: h.admin,
      payload: { potential: { closingdate: '2027-01-01' } },
    });
    expectStatus(neither, 400);
    // a client cannot set the flag itself
    const patch = await h.request({
      method: 'PATCH',
      url: `/api/v1/records/Leads/${leadId}`,
      as: h.admin,
      payload: { converted: true, version: lead.json().version },
    });
    expectStatus(patch, 200);
    expect(patch.json().converted).toBe(false);
  });

  it('lets only one of several parallel conversions of a lead through', async () => {
    const leadId = await newLead(h);
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        h.request({
          method: 'POST',
          url: `/api/v1/records/Leads/${leadId}/convert`,
          as: h.admin,
          payload: { contact: {} },
        }),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.every((c) => c === 201 || c === 409)).toBe(true);
    const contacts = await h.ctx.db.kysely
      .selectFrom('lead_conversions')
      .selectAll()
      .where('lead_id', '=', leadId)
      .execute();
    expect(contacts).toHaveLength(1);
  });

  it('convertlead over /webservice.php answers as Vtiger does, with ids in NxM form', async () => {
    const leadId = await newLead(h);
    const res = await ws.post({
      operation: 'convertlead',
      sessionName: session,
      element: JSON.stringify({
        leadId: `10x${leadId}`,
        assignedTo: `19x${h.admin.userId}`,
        entities: {
          Accounts: { create: true, name: 'Accounts' },
          Contacts: { create: true, name: 'Contacts', lastname: 'Hopper-Smith' },
          Potentials: {
            create: true,
            name: 'Potentials',
            potentialname: 'COBOL compiler',
            closingdate: '2027-06-30',
            sales_stage: 'Qualification',
          },
        },
        transferRelatedRecordsTo: 'Contacts',
      }),
    });
    const result = ok(res);
    expect(Object.keys(result).sort()).toEqual(['Accounts', 'Contacts', 'Potentials']);
    expect(result.Accounts).toMatch(/^11x\d+$/);
    expect(result.Contacts).toMatch(/^12x\d+$/);
    expect(result.Potentials).toMatch(/^13x\d+$/);
    const contact = ok(await ws.get({ operation: 'retrieve', sessionName: session, id: result.Contacts }));
    expect(contact).toMatchObject({
      lastname: 'Hopper-Smith',
      firstname: 'Grace',
      account_id: result.Accounts,
    });
    const deal = ok(await ws.get({ operation: 'retrieve', sessionName: session, id: result.Potentials }));
    expect(deal).toMatchObject({ potentialname: 'COBOL compiler', sales_stage: 'Qualification' });
    const history = await h.request({
      method: 'GET',
      url: `/api/v1/records/Leads/${leadId}/history`,
      as: h.admin,
    });
    expect(history.json().items[0]).toMatchObject({ channel: 'webservice' });

    const again = await ws.post({
      operation: 'convertlead',
      sessionName: session,
      element: JSON.stringify({ leadId: `10x${leadId}`, entities: { Contacts: { create: true } } }),
    });
    expect(again.json.error).toMatchObject({
      code: 'LEAD_ALREADY_CONVERTED',
      message: 'Lead is already converted',
    });

    const notLead = await ws.post({
      operation: 'convertlead',
      sessionName: session,
      element: JSON.stringify({ leadId: result.Contacts, entities: { Contacts: { create: true } } }),
    });
    expect(notLead.json.success).toBe(false);
    expect(notLead.json.error.code).toBe('ACCESS_DENIED');
  });

  it('retrieve_inventory returns the record with its LineItems', async () => {
    const product = await h.request({
      method: 'POST',
      url: '/api/v1/records/Products',
      as: h.admin,
      payload: { productname: 'Widget', unit_price: 10 },
    });
    expectStatus(product, 201);
    const quote = ok(
      await ws.post({
        operation: 'create',
        sessionName: session,
        elementType: 'Quotes',
        element: JSON.stringify({
          subject: 'Widgets',
          quotestage: 'Created',
          bill_street: 'x',
          ship_street: 'y',
          assigned_user_id: `19x${h.admin.userId}`,
          LineItems: [{ productid: `14x${product.json().id}`, quantity: '3', listprice: '10' }],
        }),
      }),
    );
    const inv = ok(await ws.get({ operation: 'retrieve_inventory', sessionName: session, id: quote.id }));
    expect(inv.id).toBe(quote.id);
    expect(inv.LineItems).toHaveLength(1);
    expect(inv.LineItems[0]).toMatchObject({ quantity: '3', listprice: '10' });
    const lead = ok(
      await ws.get({ operation: 'retrieve_inventory', sessionName: session, id: `10x${await newLead(h)}` }),
    );
    expect(lead.LineItems).toEqual([]);
  });

  it('extendsession turns the signed-in web session into a web-service session, with the CSRF token', async () => {
    const post = (headers: Record<string, string>, body = 'operation=extendsession') =>
      h.app.inject({
        method: 'POST',
        url: '/webservice.php',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: body,
      });
    const good = await post({ cookie: h.admin.cookie, 'x-csrf-token': h.admin.csrfToken });
    const result = JSON.parse(good.body);
    expect(result.success, good.body).toBe(true);
    expect(result.result).toMatchObject({ userId: `19x${h.admin.userId}`, version: '0.22' });
    // the new session works like one from login
    ok(await ws.get({ operation: 'listtypes', sessionName: result.result.sessionName }));

    const bad: Record<string, string>[] = [
      {},
      { cookie: h.admin.cookie },
      { cookie: h.admin.cookie, 'x-csrf-token': 'nope' },
    ];
    for (const headers of bad) {
      const refused = JSON.parse((await post(headers)).body);
      expect(refused).toMatchObject({ success: false, error: { code: 'AUTHENTICATION_FAILURE' } });
    }
    // the operation must be in the POST body
    const viaQuery = await h.app.inject({
      method: 'POST',
      url: '/webservice.php?operation=extendsession',
      headers: { cookie: h.admin.cookie, 'x-csrf-token': h.admin.csrfToken },
    });
    expect(JSON.parse(viaQuery.body).error.code).toBe('AUTHENTICATION_REQUIRED');
  });
});
