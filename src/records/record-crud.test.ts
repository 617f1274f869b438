import SQLite from 'better-sqlite3';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus, type Harness } from '../../test/harness.js';
import { inWriteTransaction } from '../db/group-commit.js';
import { resolveModule } from './module-meta.js';
import { STANDARD_MODULES } from './modules/index.js';
import { insertEntity } from './record.repository.js';

async function create(h: Harness, module: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as: h.admin, payload });
  expectStatus(res, 201);
  return res.json() as Record<string, unknown> & { id: number; version: number };
}

describeEachDialect('records CRUD', (h) => {
  let accountId: number;
  let productId: number;
  beforeAll(async () => {
    accountId = (await create(h, 'Accounts', { accountname: 'Acme', industry: 'Banking', employees: '42' }))
      .id;
    productId = (await create(h, 'Products', { productname: 'Widget', unit_price: 10 })).id;
  });

  it('numbers records one after another; on PostgreSQL from a sequence, in the statement inserting the row', async () => {
    class Rollback extends Error {}
    /** the number of a record inserted in a write transaction that then commits or rolls back */
    const take = (module: string, outcome: 'commit' | 'rollback') =>
      inWriteTransaction(h.ctx.db, async (trx) => {
        const meta = await resolveModule(trx, module);
        const entity = { ownerId: 1, userId: 1, now: Date.now(), label: 'Numbered' };
        const { number } = await insertEntity(trx, meta, entity);
        if (outcome === 'rollback') throw new Rollback(number!);
        return number!;
      }).catch((err) => {
        if (err instanceof Rollback) return err.message;
        throw err;
      });
    const n = async (module: string, outcome: 'commit' | 'rollback') =>
      Number((await take(module, outcome)).replace(/^\D+/, ''));
    const first = await n('Contacts', 'rollback');
    expect(await n('Contacts', 'rollback')).toBe(h.dialect === 'postgres' ? first + 1 : first);
    // every module with numbers has them (on PostgreSQL, a sequence), each with its prefix
    for (const m of STANDARD_MODULES.filter((m) => m.numberField))
      expect(await take(m.name, 'rollback')).toMatch(new RegExp(`^${m.numberField!.prefix}\\d+$`));
  });

  // PostgreSQL draws it from a sequence in the entity row's insert (the test above)
  it.skipIf(h.dialect !== 'sqlite')("takes a create's number in the write itself on SQLite", async () => {
    // every better-sqlite3 statement shares one prototype: note whether the sequence row's update ran
    // inside a transaction (SQLite) — a statement of its own was one more write transaction per create
    const scratch = new SQLite(':memory:');
    const proto = Object.getPrototypeOf(scratch.prepare('select 1')) as {
      run(...a: unknown[]): unknown;
      all(...a: unknown[]): unknown;
    };
    scratch.close();
    const seen: boolean[] = [];
    const spied = (['run', 'all'] as const).map((m) => {
      const orig = proto[m];
      proto[m] = function (this: { source: string; database: { inTransaction: boolean } }, ...a) {
        if (this.source.includes('record_sequences')) seen.push(this.database.inTransaction);
        return orig.apply(this, a);
      };
      return () => {
        proto[m] = orig;
      };
    });
    try {
      const c = await create(h, 'Contacts', { lastname: 'Numbered' });
      expect(c.contact_no).toMatch(/^CON\d+$/);
    } finally {
      for (const restore of spied) restore();
    }
    expect(seen).toEqual([true]);
  });

  it('creates a contact with typed fields, a record number and the caller as owner', async () => {
    const c = await create(h, 'Contacts', {
      firstname: 'Ada',
      lastname: 'Lovelace',
      email: 'ada@example.com',
      birthday: '1815-12-10',
      donotcall: 'yes',
      leadsource: 'web site',
      account_id: accountId,
    });
    expect(c).toMatchObject({
      firstname: 'Ada',
      lastname: 'Lovelace',
      label: 'Ada Lovelace',
      version: 1,
      donotcall: true,
      leadsource: 'Web Site',
      account_id: accountId,
      assigned_user_id: h.admin.userId,
      modifiedby: h.admin.userId,
      createdtime: '2026-11-23T09:00:00.000Z',
    });
    expect(c.contact_no).toMatch(/^CON\d+$/);
    const res = await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${c.id}`, as: h.admin });
    expectStatus(res, 200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.json()).toEqual(c);
  });

  it('creates records of every module with their mandatory fields', async () => {
    await create(h, 'Leads', { lastname: 'Lead', company: 'Co', noofemployees: 5, annualrevenue: '1000.5' });
    await create(h, 'Potentials', {
      potentialname: 'Big deal',
      closingdate: '2026-12-31',
      sales_stage: 'Prospecting',
      related_to: accountId,
      amount: 99.5,
    });
    await create(h, 'HelpDesk', {
      ticket_title: 'Broken',
      ticketstatus: 'Open',
      ticketpriorities: 'High',
      parent_id: accountId,
      product_id: productId,
    });
    const q = await create(h, 'Quotes', {
      subject: 'Q1',
      quotestage: 'Created',
      account_id: accountId,
      bill_street: 'Main St 1',
      ship_street: 'Main St 1',
      hdnDiscountPercent: 10,
      hdnS_H_Amount: 5,
      lineItems: [
        { product_id: productId, quantity: 2 },
        { product_id: productId, quantity: 1, listprice: 20, discount_amount: 5 },
      ],
    });
    expect(q).toMatchObject({ hdnSubTotal: 35, pre_tax_total: 36.5, hdnGrandTotal: 36.5 });
    expect((q.lineItems as unknown[]).length).toBe(2);
    expect(q.lineItems).toMatchObject([
      { listprice: 10, net_price: 20 },
      { listprice: 20, net_price: 15 },
    ]);
  });

  it('keeps quote totals consistent when line items or discounts change', async () => {
    const q = await create(h, 'Quotes', {
      subject: 'Q2',
      quotestage: 'Created',
      account_id: accountId,
      bill_street: 'a',
      ship_street: 'b',
      lineItems: [{ product_id: productId, quantity: 3 }],
    });
    expect(q.hdnGrandTotal).toBe(30);
    const res = await h.request({
      method: 'PATCH',
      url: `/api/v1/records/Quotes/${q.id}`,
      as: h.admin,
      payload: { version: 1, txtAdjustment: -2 },
    });
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({ hdnGrandTotal: 28, version: 2 });
    const res2 = await h.request({
      method: 'PATCH',
      url: `/api/v1/records/Quotes/${q.id}`,
      as: h.admin,
      headers: { 'if-match': '"2"' },
      payload: { lineItems: [] },
    });
    expectStatus(res2, 200);
    expect(res2.json()).toMatchObject({ hdnSubTotal: 0, hdnGrandTotal: -2, lineItems: [] });
  });

  it('updates with the current version and refuses a stale one with 409', async () => {
    const c = await create(h, 'Contacts', { lastname: 'Old' });
    const ok = await h.request({
      method: 'PATCH',
      url: `/api/v1/records/Contacts/${c.id}`,
      as: h.admin,
      headers: { 'if-match': '"1"' },
      payload: { lastname: 'New' },
    });
    expectStatus(ok, 200);
    expect(ok.json()).toMatchObject({ lastname: 'New', version: 2, label: 'New' });
    const stale = await h.request({
      method: 'PATCH',
      url: `/api/v1/records/Contacts/${c.id}`,
      as: h.admin,
      payload: { version: 1, lastname: 'Lost' },
    });
    expectStatus(stale, 409);
    expect(errorCode(stale)).toBe('VERSION_CONFLICT');
    const none = await h.request({
      method: 'PATCH',
      url: `/api/v1/records/Contacts/${c.id}`,
      as: h.admin,
      payload: { lastname: 'X' },
    });
    expectStatus(none, 428);
    expect(errorCode(none)).toBe('VERSION_REQUIRED');
  });

  it('accepts a record read back unchanged as a PATCH body (read-only fields are ignored)', async () => {
    const made = {
      Contacts: await create(h, 'Contacts', { lastname: 'Round', account_id: accountId, donotcall: true }),
      Quotes: await create(h, 'Quotes', {
        subject: 'R',
        quotestage: 'Created',
        bill_street: 'a',
        ship_street: 'b',
        lineItems: [{ product_id: productId, quantity: 1 }],
      }),
    };
    for (const [module, rec] of Object.entries(made)) {
      const res = await h.request({
        method: 'PATCH',
        url: `/api/v1/records/${module}/${rec.id}`,
        as: h.admin,
        payload: rec,
      });
      expectStatus(res, 200);
      const { version, modifiedtime, ...rest } = res.json();
      const { version: v0, modifiedtime: m0, ...before } = rec;
      expect(version).toBe(v0 + 1);
      expect(rest).toEqual({ ...before, lineItems: module === 'Quotes' ? expect.any(Array) : undefined });
    }
  });

  it('lets exactly one of two racing writers with the same version win', async () => {
    const c = await create(h, 'Contacts', { lastname: 'Race' });
    const write = (lastname: string) =>
      h.request({
        method: 'PATCH',
        url: `/api/v1/records/Contacts/${c.id}`,
        as: h.admin,
        payload: { version: 1, lastname },
      });
    const results = await Promise.all([write('A'), write('B'), write('C')]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
  });

  it('shows a reference to a deleted record as empty', async () => {
    const acc = await create(h, 'Accounts', { accountname: 'Doomed' });
    const c = await create(h, 'Contacts', { lastname: 'Orphan', account_id: acc.id });
    expectStatus(
      await h.request({ method: 'DELETE', url: `/api/v1/records/Accounts/${acc.id}`, as: h.admin }),
      204,
    );
    const res = await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${c.id}`, as: h.admin });
    expect(res.json().account_id).toBeNull();
  });

  it('soft-deletes: the record answers 404 afterwards and leaves lists', async () => {
    const c = await create(h, 'Contacts', { lastname: 'Gone' });
    expectStatus(
      await h.request({ method: 'DELETE', url: `/api/v1/records/Contacts/${c.id}`, as: h.admin }),
      204,
    );
    const res = await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${c.id}`, as: h.admin });
    expectStatus(res, 404);
    expect(errorCode(res)).toBe('RECORD_NOT_FOUND');
    const list = await h.request({
      method: 'GET',
      url: '/api/v1/records/Contacts?filter[lastname]=Gone',
      as: h.admin,
    });
    expect(list.json().items).toEqual([]);
    const row = await h.ctx.db.kysely
      .selectFrom('crm_entities')
      .select('deleted_at')
      .where('id', '=', c.id)
      .executeTakeFirst();
    expect(row?.deleted_at).not.toBeNull();
  });

  describe('validation', () => {
    const cases: Array<[string, string, Record<string, unknown>, string, RegExp]> = [
      ['a missing mandatory field', 'Contacts', { firstname: 'x' }, 'MANDATORY_FIELD_MISSING', /lastname/],
      ['an unknown field', 'Contacts', { lastname: 'x', nosuch: 1 }, 'FIELD_UNKNOWN', /nosuch/],
      ['a bad email', 'Contacts', { lastname: 'x', email: 'nope' }, 'FIELD_INVALID', /email/],
      [
        'a bad picklist value',
        'Contacts',
        { lastname: 'x', leadsource: 'Telepathy' },
        'FIELD_INVALID',
        /leadsource/,
      ],
      ['a bad date', 'Contacts', { lastname: 'x', birthday: '2026-02-30' }, 'FIELD_INVALID', /birthday/],
      ['a non-integer', 'Accounts', { accountname: 'x', employees: '1.5' }, 'FIELD_INVALID', /employees/],
      [
        'a non-number currency',
        'Products',
        { productname: 'x', unit_price: 'cheap' },
        'FIELD_INVALID',
        /unit_price/,
      ],
      ['an object as text', 'Contacts', { lastname: { $ne: 1 } }, 'FIELD_INVALID', /lastname/],
      [
        'a reference to nothing',
        'Contacts',
        { lastname: 'x', account_id: 99999999 },
        'REFERENCE_INVALID',
        /account_id/,
      ],
      [
        'a reference to the wrong module',
        'Contacts',
        { lastname: 'x', contact_id: 1 },
        'REFERENCE_INVALID',
        /contact_id/,
      ],
      [
        'an unknown owner',
        'Contacts',
        { lastname: 'x', assigned_user_id: 999999 },
        'OWNER_INVALID',
        /assigned_user_id/,
      ],
      [
        'a bad line item',
        'Quotes',
        {
          subject: 's',
          quotestage: 'Created',
          bill_street: 'a',
          ship_street: 'b',
          lineItems: [{ product_id: 1, quantity: -1 }],
        },
        'LINE_ITEM_INVALID',
        /quantity/,
      ],
    ];
    for (const [name, module, payload, code, msg] of cases) {
      it(`refuses ${name} with 400 naming the field`, async () => {
        const res = await h.request({
          method: 'POST',
          url: `/api/v1/records/${module}`,
          as: h.admin,
          payload,
        });
        expectStatus(res, 400);
        expect(errorCode(res)).toBe(code);
        expect(res.json().error.message).toMatch(msg);
      });
    }

    it('refuses an unknown module with 404', async () => {
      const res = await h.request({ method: 'GET', url: '/api/v1/records/Nope', as: h.admin });
      expectStatus(res, 404);
      expect(errorCode(res)).toBe('MODULE_NOT_FOUND');
    });

    it('refuses an inactive owner', async () => {
      const u = await h.createUser();
      expectStatus(
        await h.request({
          method: 'PATCH',
          url: `/api/v1/users/${u.id}`,
          as: h.admin,
          payload: { status: 'Inactive' },
        }),
        200,
      );
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname: 'x', assigned_user_id: u.id },
      });
      expectStatus(res, 400);
      expect(errorCode(res)).toBe('OWNER_INVALID');
    });
  });

  it('describes modules with Vtiger field names, types and idPrefix', async () => {
    const list = await h.request({ method: 'GET', url: '/api/v1/modules', as: h.admin });
    expectStatus(list, 200);
    expect(list.json().items.map((m: { name: string }) => m.name)).toEqual([
      'Quotes',
      'Leads',
      'Accounts',
      'Contacts',
      'Potentials',
      'Products',
      'HelpDesk',
    ]);
    const res = await h.request({ method: 'GET', url: '/api/v1/modules/Contacts', as: h.admin });
    expectStatus(res, 200);
    const d = res.json();
    expect(d).toMatchObject({ name: 'Contacts', idPrefix: '12', labelFields: ['firstname', 'lastname'] });
    expect(d.fields.find((x: { name: string }) => x.name === 'lastname')).toMatchObject({
      type: 'string',
      mandatory: true,
    });
    expect(d.fields.find((x: { name: string }) => x.name === 'account_id')).toMatchObject({
      type: 'reference',
      refersTo: ['Accounts'],
    });
  });

  it('never answers fuzzed record bodies with a 5xx', async () => {
    const field = fc.constantFrom(
      'lastname',
      'firstname',
      'email',
      'birthday',
      'donotcall',
      'account_id',
      'assigned_user_id',
      'leadsource',
      'contact_no',
      'createdtime',
      'id',
      'version',
      'nosuch',
    );
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom('\u0000', 'x'.repeat(300), '1e400', '2026-13-01'),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.object({ maxDepth: 1 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(field, value, { maxKeys: 5 }),
        fc.constantFrom('POST', 'PATCH'),
        async (payload, method) => {
          const url =
            method === 'POST'
              ? '/api/v1/records/Contacts'
              : `/api/v1/records/Contacts/${(await create(h, 'Contacts', { lastname: 'Fuzz' })).id}`;
          const res = await h.request({
            method,
            url,
            as: h.admin,
            headers: method === 'PATCH' ? { 'if-match': '"1"' } : {},
            payload,
          });
          if (res.statusCode >= 500)
            throw new Error(`${JSON.stringify(payload)} → ${res.statusCode} ${res.body}`);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});
