import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect, expectStatus, type Harness, type TestUser } from '../../test/harness.js';
import { WsKit, type WsResponse } from '../../test/ws-kit.js';

async function roleId(h: Harness, name: string): Promise<number> {
  const row = await h.ctx.db.kysely
    .selectFrom('roles')
    .select('id')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.id;
}

const ok = (res: WsResponse) => {
  if (!res.json?.success) throw new Error(`expected success, got ${res.status} ${res.body}`);
  return res.json.result;
};
const refused = (res: WsResponse) => {
  expect(res.status).toBe(200);
  expect(res.json.success, res.body).toBe(false);
  return res.json.error as { code: string; message: string };
};

describeEachDialect('web services: records, sharing and Vtiger formats', (h) => {
  const ws = new WsKit(h);
  let admin: string;
  let manager: TestUser;
  let peer: TestUser;
  let outsider: TestUser;
  let managerSession: string;
  let outsiderSession: string;
  const leads: Record<string, string> = {};

  const create = (session: string, elementType: string, element: Record<string, unknown>) =>
    ws.post({ operation: 'create', sessionName: session, elementType, element: JSON.stringify(element) });
  const query = (session: string, q: string) =>
    ws.get({ operation: 'query', sessionName: session, query: q });

  beforeAll(async () => {
    await ws.start();
    admin = await ws.login('admin', h.admin.userId);
    expectStatus(
      await h.request({
        method: 'PUT',
        url: '/api/v1/sharing-defaults',
        as: h.admin,
        payload: { Leads: 'private' },
      }),
      200,
    );
    manager = await h.createUser({ roleId: await roleId(h, 'Sales Manager') });
    peer = await h.createUser({ roleId: await roleId(h, 'Sales Manager') });
    const role = await h.createRole(
      'WS leadless',
      { Leads: { view: false, create: false, edit: false, delete: false } },
      await roleId(h, 'Sales Manager'),
    );
    outsider = await h.createUser({ roleId: role.roleId });
    managerSession = await ws.login(manager.username, manager.id);
    outsiderSession = await ws.login(outsider.username, outsider.id);
    for (const [name, owner] of [
      ['mine', manager],
      ['peers', peer],
    ] as const) {
      const r = ok(
        await create(admin, 'Leads', {
          lastname: name,
          company: 'WS Co',
          assigned_user_id: `19x${owner.id}`,
        }),
      );
      leads[name] = r.id;
    }
  });
  afterAll(() => ws.stop());

  describe('sharing', () => {
    it('shows a user only the records sharing lets them see, in query, count and retrieve', async () => {
      const rows = ok(await query(managerSession, "SELECT lastname FROM Leads WHERE company = 'WS Co';"));
      expect(rows).toEqual([{ lastname: 'mine', id: leads.mine }]);
      expect(ok(await query(managerSession, "SELECT count(*) FROM Leads WHERE company = 'WS Co';"))).toEqual([
        { count: '1' },
      ]);
      expect(
        refused(await ws.get({ operation: 'retrieve', sessionName: managerSession, id: leads.peers! })),
      ).toEqual({
        message: 'Permission to perform the operation is denied',
        code: 'ACCESS_DENIED',
      });
      const revise = await ws.post({
        operation: 'revise',
        sessionName: managerSession,
        element: JSON.stringify({ id: leads.peers, lastname: 'stolen' }),
      });
      expect(refused(revise).code).toBe('ACCESS_DENIED');
      expect(
        refused(await ws.post({ operation: 'delete', sessionName: managerSession, id: leads.peers! })).code,
      ).toBe('ACCESS_DENIED');
    });

    it('hides a module the profile does not allow from listtypes, describe, query and create', async () => {
      const types = ok(await ws.get({ operation: 'listtypes', sessionName: outsiderSession }));
      expect(types.types).not.toContain('Leads');
      expect(types.types).toContain('Users');
      expect(
        refused(await ws.get({ operation: 'describe', sessionName: outsiderSession, elementType: 'Leads' }))
          .code,
      ).toBe('ACCESS_DENIED');
      expect(refused(await query(outsiderSession, 'SELECT * FROM Leads;')).code).toBe('ACCESS_DENIED');
      expect(refused(await create(outsiderSession, 'Leads', { lastname: 'x', company: 'y' })).code).toBe(
        'ACCESS_DENIED',
      );
    });
  });

  describe('formats', () => {
    it('describes a module with idPrefix and Vtiger field types', async () => {
      const d = ok(await ws.get({ operation: 'describe', sessionName: admin, elementType: 'Contacts' }));
      expect(d.idPrefix).toBe('12');
      const byName = Object.fromEntries(d.fields.map((f: { name: string }) => [f.name, f]));
      expect(byName.lastname.mandatory).toBe(true);
      expect(byName.account_id.type).toEqual({ refersTo: ['Accounts'], name: 'reference' });
      expect(byName.assigned_user_id.type).toEqual({ name: 'owner' });
      expect(d.fields.at(-1)).toMatchObject({ name: 'id', type: { name: 'autogenerated' } });
    });

    it('retrieves a Quote with its LineItems, product ids as NxM', async () => {
      const product = ok(await create(admin, 'Products', { productname: 'Widget', unit_price: '10' }));
      const quote = ok(
        await create(admin, 'Quotes', {
          subject: 'Q1',
          quotestage: 'Created',
          bill_street: 'a',
          ship_street: 'b',
          LineItems: [{ productid: product.id, quantity: '3', listprice: '10' }],
        }),
      );
      const got = ok(await ws.get({ operation: 'retrieve', sessionName: admin, id: quote.id }));
      expect(got.id).toMatch(/^4x\d+$/);
      expect(got.LineItems).toHaveLength(1);
      expect(got.LineItems[0]).toMatchObject({ productid: product.id, quantity: '3', listprice: '10' });
      expect(got.hdnGrandTotal).toBe('30');
    });

    it('serves Users without an access key or password, by retrieve and by query', async () => {
      const me = ok(await ws.get({ operation: 'retrieve', sessionName: admin, id: `19x${manager.id}` }));
      expect(me).toMatchObject({ user_name: manager.username, id: `19x${manager.id}` });
      const rows = ok(await query(admin, 'SELECT * FROM Users;'));
      expect(rows.length).toBeGreaterThan(2);
      const text = JSON.stringify(rows) + JSON.stringify(me);
      expect(text).not.toMatch(/accesskey|password|argon/i);
      expect(text).not.toContain(ws.keys.key(manager.id));
      expect(refused(await query(admin, 'SELECT user_password FROM Users;')).code).toBe('ACCESS_DENIED');
      expect(refused(await query(admin, 'SELECT accesskey FROM Users;')).code).toBe('ACCESS_DENIED');
      expect(ok(await query(admin, `SELECT user_name FROM Users WHERE id = '19x${manager.id}';`))).toEqual([
        { user_name: manager.username, id: `19x${manager.id}` },
      ]);
    });

    it('update needs every mandatory field; revise changes only what it is given', async () => {
      const c = ok(await create(admin, 'Contacts', { lastname: 'Full', firstname: 'A' }));
      const upd = await ws.post({
        operation: 'update',
        sessionName: admin,
        element: JSON.stringify({ id: c.id, firstname: 'B' }),
      });
      expect(refused(upd)).toEqual({
        message: 'lastname does not have a value',
        code: 'MANDATORY_FIELDS_MISSING',
      });
      const rev = ok(
        await ws.post({
          operation: 'revise',
          sessionName: admin,
          element: JSON.stringify({ id: c.id, firstname: 'B' }),
        }),
      );
      expect([rev.firstname, rev.lastname]).toEqual(['B', 'Full']);
      const cleared = await ws.post({
        operation: 'revise',
        sessionName: admin,
        element: JSON.stringify({ id: c.id, lastname: '' }),
      });
      expect(refused(cleared).code).toBe('MANDATORY_FIELDS_MISSING');
    });
  });

  describe('VTQL over real modules', () => {
    it('filters by text, LIKE, boolean, number, datetime, owner and id on this database', async () => {
      const a = ok(
        await create(admin, 'Contacts', {
          lastname: 'Vtql-Alpha',
          donotcall: '1',
          email: 'alpha@example.com',
        }),
      );
      const b = ok(await create(admin, 'Contacts', { lastname: 'vtql-beta', donotcall: '0' }));
      const names = async (where: string) =>
        ok(await query(admin, `SELECT lastname FROM Contacts WHERE ${where} ORDER BY lastname;`)).map(
          (r: { lastname: string }) => r.lastname,
        );
      expect(await names("lastname LIKE 'vtql-%'")).toEqual(['Vtql-Alpha', 'vtql-beta']);
      expect(await names("lastname = 'vtql-beta'")).toEqual(['vtql-beta']);
      const ordered = ok(
        await query(admin, "SELECT email, lastname FROM Contacts WHERE lastname = 'Vtql-Alpha';"),
      );
      expect(Object.keys(ordered[0])).toEqual(['email', 'lastname', 'id']);
      expect(await names("lastname LIKE 'vtql%' AND donotcall = '1'")).toEqual(['Vtql-Alpha']);
      expect(
        await names(`id IN ('${a.id}', '${b.id}') AND modifiedtime >= '2000-01-01 00:00:00'`),
      ).toHaveLength(2);
      expect(await names(`lastname LIKE 'vtql%' AND assigned_user_id = '19x${h.admin.userId}'`)).toHaveLength(
        2,
      );
      expect(await names("lastname LIKE 'vtql%' AND donotcall = 'maybe'")).toEqual([]);
      const p = ok(await create(admin, 'Products', { productname: 'Gizmo', unit_price: '25.5' }));
      const rows = ok(
        await query(
          admin,
          "SELECT productname FROM Products WHERE unit_price > '20' AND unit_price < 'abc';",
        ),
      );
      expect(rows).toEqual([]);
      const cheap = ok(await query(admin, "SELECT productname FROM Products WHERE unit_price >= '25.5';"));
      expect(cheap).toContainEqual({ productname: 'Gizmo', id: p.id });
    });
  });

  describe('sync and related records', () => {
    it('syncs the caller’s changes and deletions since a time', async () => {
      const since = String(Math.floor(h.clock.now() / 1000));
      h.clock.advance(2000);
      const c = ok(await create(managerSession, 'Contacts', { lastname: 'Synced' }));
      let s = ok(
        await ws.get({
          operation: 'sync',
          sessionName: managerSession,
          modifiedTime: since,
          elementType: 'Contacts',
        }),
      );
      expect(s.updated.map((r: { id: string }) => r.id)).toEqual([c.id]);
      expect(s.more).toBe(false);
      h.clock.advance(2000);
      ok(await ws.post({ operation: 'delete', sessionName: managerSession, id: c.id }));
      s = ok(await ws.get({ operation: 'sync', sessionName: managerSession, modifiedTime: since }));
      expect(s.deleted).toEqual([c.id]);
      expect(
        refused(await ws.get({ operation: 'sync', sessionName: managerSession, modifiedTime: 'yesterday' }))
          .code,
      ).toBe('INVALID_REQUEST');
    });

    it('lists, queries and adds related records through reference fields', async () => {
      const acc = ok(await create(admin, 'Accounts', { accountname: 'Rel Inc' }));
      const c1 = ok(await create(admin, 'Contacts', { lastname: 'One', account_id: acc.id }));
      const c2 = ok(await create(admin, 'Contacts', { lastname: 'Two' }));
      const types = ok(
        await ws.get({ operation: 'relatedtypes', sessionName: admin, elementType: 'Accounts' }),
      );
      expect(types.types).toContain('Contacts');
      const rel = { sessionName: admin, id: acc.id, relatedType: 'Contacts', relatedLabel: 'Contacts' };
      expect(
        ok(await ws.get({ operation: 'retrieve_related', ...rel })).map((r: { id: string }) => r.id),
      ).toEqual([c1.id]);
      ok(
        await ws.post({
          operation: 'add_related',
          sessionName: admin,
          sourceRecordId: acc.id,
          relatedRecordId: c2.id,
          relationIdLabel: 'Contacts',
        }),
      );
      const q = await ws.get({
        operation: 'query_related',
        sessionName: admin,
        id: acc.id,
        relatedLabel: 'Contacts',
        query: 'SELECT lastname FROM Contacts ORDER BY lastname;',
      });
      expect(ok(q).map((r: { lastname: string }) => r.lastname)).toEqual(['One', 'Two']);
      const bad = await ws.get({
        operation: 'query_related',
        sessionName: admin,
        id: acc.id,
        relatedLabel: 'Nope',
        query: 'SELECT * FROM Contacts;',
      });
      expect(refused(bad)).toEqual({ message: 'Relation specified is incorrect', code: 'UNKOWN_ENTITY' });
    });
  });

  describe('bad input gets the Vtiger envelope, never a 500', () => {
    const s = () => admin;
    it.each([
      [
        'malformed element',
        () => ({ operation: 'create', elementType: 'Contacts', element: '{"lastname":' }),
        'POST',
        'INVALID_REQUEST',
      ],
      [
        'element not an object',
        () => ({ operation: 'create', elementType: 'Contacts', element: '[1]' }),
        'POST',
        'INVALID_REQUEST',
      ],
      ['missing element', () => ({ operation: 'update' }), 'POST', 'INVALID_REQUEST'],
      [
        'unknown module',
        () => ({ operation: 'create', elementType: 'Spaceships', element: '{}' }),
        'POST',
        'ACCESS_DENIED',
      ],
      [
        'describe unknown module',
        () => ({ operation: 'describe', elementType: '../etc' }),
        'GET',
        'ACCESS_DENIED',
      ],
      ['wrong id prefix', () => ({ operation: 'retrieve', id: '99x1' }), 'GET', 'ACCESS_DENIED'],
      [
        'id of another module',
        () => ({ operation: 'retrieve', id: leads.mine!.replace(/^\d+x/, '12x') }),
        'GET',
        'ACCESS_DENIED',
      ],
      ['malformed id', () => ({ operation: 'delete', id: "1x1' OR 1=1" }), 'POST', 'ACCESS_DENIED'],
      [
        'update with a bad id',
        () => ({ operation: 'update', element: '{"id":"abc","lastname":"x"}' }),
        'POST',
        'ACCESS_DENIED',
      ],
      [
        'reference with a wrong prefix',
        () => ({
          operation: 'create',
          elementType: 'Contacts',
          element: '{"lastname":"x","account_id":"12x1"}',
        }),
        'POST',
        'REFERENCE_INVALID',
      ],
      [
        'owner that is not a user',
        () => ({
          operation: 'create',
          elementType: 'Contacts',
          element: '{"lastname":"x","assigned_user_id":"12x1"}',
        }),
        'POST',
        'ACCESS_DENIED',
      ],
      [
        'a bad field value',
        () => ({
          operation: 'create',
          elementType: 'Contacts',
          element: '{"lastname":"x","email":"not-an-email"}',
        }),
        'POST',
        'INVALID_REQUEST',
      ],
      [
        'unknown field in VTQL',
        () => ({ operation: 'query', query: 'SELECT nope FROM Contacts;' }),
        'GET',
        'ACCESS_DENIED',
      ],
      [
        'unknown field in WHERE',
        () => ({ operation: 'query', query: "SELECT * FROM Contacts WHERE nope = '1';" }),
        'GET',
        'ACCESS_DENIED',
      ],
      [
        'VTQL injection',
        () => ({ operation: 'query', query: 'SELECT * FROM Contacts; DROP TABLE users;' }),
        'GET',
        'QUERY_SYNTAX_ERROR',
      ],
      [
        'VTQL on an unknown module',
        () => ({ operation: 'query', query: 'SELECT * FROM users;' }),
        'GET',
        'ACCESS_DENIED',
      ],
      [
        'reference value without NxM',
        () => ({ operation: 'query', query: "SELECT * FROM Contacts WHERE account_id = '5';" }),
        'GET',
        'INVALID_ID_ATTRIBUTE',
      ],
      [
        'bad relation id',
        () => ({ operation: 'retrieve_related', id: 'x', relatedType: 'Contacts', relatedLabel: 'Contacts' }),
        'GET',
        'ACCESS_DENIED',
      ],
      [
        'add_related with junk',
        () => ({ operation: 'add_related', sourceRecordId: '11x1', relatedRecordId: '[' }),
        'POST',
        'INVALID_REQUEST',
      ],
    ])('%s', async (_n, params, method, code) => {
      const p = { ...params(), sessionName: s() } as Record<string, string>;
      const res = method === 'GET' ? await ws.get(p) : await ws.post(p);
      expect(refused(res).code).toBe(code);
    });

    it('caps a huge LIMIT at 100 rows', async () => {
      for (let i = 0; i < 3; i++) ok(await create(admin, 'Contacts', { lastname: `Cap${i}` }));
      const rows = ok(await query(admin, 'SELECT id FROM Contacts LIMIT 999999999999999999999;'));
      expect(rows.length).toBeLessThanOrEqual(100);
      expect(ok(await query(admin, 'SELECT id FROM Contacts LIMIT 2;'))).toHaveLength(2);
      expect(ok(await query(admin, 'SELECT id FROM Contacts LIMIT 99999999, 5;'))).toEqual([]);
    });
  });
});
