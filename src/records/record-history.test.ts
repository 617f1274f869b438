import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus, type Harness } from '../../test/harness.js';
import { RealKeys, WsKit } from '../../test/ws-kit.js';

interface HistoryItem {
  action: string;
  actor: { id: number | null; name: string | null };
  channel: string;
  source: string | null;
  changes: Array<{ field: string; label: string; old: unknown; new: unknown }>;
}

async function history(h: Harness, module: string, id: number, query = ''): Promise<HistoryItem[]> {
  const res = await h.request({
    method: 'GET',
    url: `/api/v1/records/${module}/${id}/history${query}`,
    as: h.admin,
  });
  expectStatus(res, 200);
  return res.json().items;
}

async function events(h: Harness, recordId: number) {
  const rows = await h.ctx.db.kysely
    .selectFrom('domain_events')
    .selectAll()
    .where('record_id', '=', recordId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ type: r.type, payload: JSON.parse(r.payload) }));
}

const change = (item: HistoryItem, field: string) => item.changes.find((c) => c.field === field);

describeEachDialect('record history and events: one write path for every channel', (h) => {
  describe('REST (the web UI with a session, integrations with a key)', () => {
    it('records creation, each change with old and new values, and deletion, newest first', async () => {
      const created = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname: 'Lovelace', firstname: 'Ada', email: 'ada@example.com' },
      });
      expectStatus(created, 201);
      const { id } = created.json();
      const key = await h.accessKey(h.admin);
      const patched = await h.request({
        method: 'PATCH',
        url: `/api/v1/records/Contacts/${id}`,
        headers: { authorization: `Bearer ${key}`, 'if-match': '"1"' },
        as: null,
        payload: { email: 'ada@lovelace.example', title: 'Countess' },
      });
      expectStatus(patched, 200);
      // the response is the record as stored: a read returns the same
      const read = await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${id}`, as: h.admin });
      expect(read.json()).toEqual(patched.json());
      expectStatus(
        await h.request({
          method: 'DELETE',
          url: `/api/v1/records/Contacts/${id}`,
          as: h.admin,
          headers: { 'if-match': '"2"' },
        }),
        204,
      );

      const items = await history(h, 'Contacts', id);
      expect(items.map((i) => [i.action, i.channel])).toEqual([
        ['deleted', 'web'],
        ['updated', 'api'],
        ['created', 'web'],
      ]);
      expect(items[2]!.actor).toEqual({ id: h.admin.userId, name: 'admin' });
      expect(change(items[2]!, 'lastname')).toEqual({
        field: 'lastname',
        label: 'Last Name',
        old: null,
        new: 'Lovelace',
      });
      expect(items[1]!.changes.map((c) => c.field).sort()).toEqual(['email', 'title']);
      expect(change(items[1]!, 'email')).toMatchObject({
        old: 'ada@example.com',
        new: 'ada@lovelace.example',
      });

      const evs = await events(h, id);
      expect(evs.map((e) => e.type)).toEqual(['record.created', 'record.updated', 'record.deleted']);
      expect(evs[1]!.payload).toMatchObject({
        module: 'Contacts',
        id,
        operation: 'updated',
        channel: 'api',
        changes: { email: ['ada@example.com', 'ada@lovelace.example'], title: [null, 'Countess'] },
      });
      expect(evs[1]!.payload.record.fields).toMatchObject({ lastname: 'Lovelace', title: 'Countess' });

      const audit = await h.request({
        method: 'GET',
        url: `/api/v1/audit?targetType=Contacts&targetId=${id}`,
        as: h.admin,
      });
      expect(audit.json().items.map((a: { action: string }) => a.action)).toEqual([
        'record.deleted',
        'record.updated',
        'record.created',
      ]);
      // the audit names the fields, never their values
      expect(JSON.stringify(audit.json())).not.toContain('lovelace.example');
    });

    it('writes no history or event for a change that changes nothing', async () => {
      const { id } = (
        await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: h.admin,
          payload: { lastname: 'Same' },
        })
      ).json();
      const res = await h.request({
        method: 'PATCH',
        url: `/api/v1/records/Contacts/${id}`,
        as: h.admin,
        payload: { lastname: 'Same', version: 1 },
      });
      expectStatus(res, 200);
      expect((await history(h, 'Contacts', id)).map((i) => i.action)).toEqual(['created']);
      expect((await events(h, id)).length).toBe(1);
    });

    it('keeps quote line items in history and in the event snapshot', async () => {
      const product = (
        await h.request({
          method: 'POST',
          url: '/api/v1/records/Products',
          as: h.admin,
          payload: { productname: 'Widget', unit_price: 10 },
        })
      ).json();
      const quote = await h.request({
        method: 'POST',
        url: '/api/v1/records/Quotes',
        as: h.admin,
        payload: {
          subject: 'Q',
          quotestage: 'Created',
          bill_street: '1 Main St',
          ship_street: '1 Main St',
          lineItems: [{ product_id: product.id, quantity: 2 }],
        },
      });
      expectStatus(quote, 201);
      const { id } = quote.json();
      const updated = await h.request({
        method: 'PATCH',
        url: `/api/v1/records/Quotes/${id}`,
        as: h.admin,
        payload: { version: 1, lineItems: [{ product_id: product.id, quantity: 3, listprice: 9 }] },
      });
      expectStatus(updated, 200);
      const read = await h.request({ method: 'GET', url: `/api/v1/records/Quotes/${id}`, as: h.admin });
      expect(read.json()).toEqual(updated.json());
      expect(updated.json()).toMatchObject({ hdnSubTotal: 27, hdnGrandTotal: 27 });
      const [latest] = await history(h, 'Quotes', id);
      expect(change(latest!, 'hdnSubTotal')).toMatchObject({ old: 20, new: 27 });
      expect(change(latest!, 'lineItems')?.new).toEqual([
        expect.objectContaining({ product_id: product.id, quantity: 3, listprice: 9 }),
      ]);
      const evs = await events(h, id);
      expect(evs[1]!.payload.record.lineItems).toEqual([
        expect.objectContaining({ productId: product.id, quantity: 3, netPrice: 27 }),
      ]);
    });

    it('pages history with nextBefore and hides the history of records the caller cannot see', async () => {
      const owner = await h.createUser();
      const ticket = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: owner.session,
        payload: { lastname: 'Paged', title: 'Intern' },
      });
      expectStatus(ticket, 201);
      const { id } = ticket.json();
      for (const [v, status] of [
        [1, 'Analyst'],
        [2, 'Manager'],
        [3, 'Director'],
      ] as const)
        expectStatus(
          await h.request({
            method: 'PATCH',
            url: `/api/v1/records/Contacts/${id}`,
            as: owner.session,
            payload: { version: v, title: status },
          }),
          200,
        );
      const first = await h.request({
        method: 'GET',
        url: `/api/v1/records/Contacts/${id}/history?limit=3`,
        as: owner.session,
      });
      expectStatus(first, 200);
      expect(first.json().items.map((i: HistoryItem) => change(i, 'title')?.new)).toEqual([
        'Director',
        'Manager',
        'Analyst',
      ]);
      const rest = await history(h, 'Contacts', id, `?before=${first.json().nextBefore}`);
      expect(rest.map((i) => i.action)).toEqual(['created']);

      const stranger = await h.createUser();
      const hidden = await h.request({
        method: 'GET',
        url: `/api/v1/records/Contacts/${id}/history`,
        as: stranger.session,
      });
      expectStatus(hidden, 404);
      expect(errorCode(hidden)).toBe('RECORD_NOT_FOUND');
      const wrongModule = await h.request({
        method: 'GET',
        url: `/api/v1/records/Leads/${id}/history`,
        as: h.admin,
      });
      expectStatus(wrongModule, 404);
    });
  });

  describe('/webservice.php', () => {
    const ws = new WsKit(h, (hh) => new RealKeys(hh));
    let session: string;
    beforeAll(async () => {
      await ws.start();
      session = await ws.login('admin', h.admin.userId);
    });

    it('create, update, revise and delete each leave history and an event', async () => {
      const created = await ws.post({
        operation: 'create',
        sessionName: session,
        elementType: 'Leads',
        element: JSON.stringify({ lastname: 'Hopper', company: 'Navy', assigned_user_id: '19x1' }),
      });
      expect(created.json.success, created.body).toBe(true);
      const wsId = created.json.result.id as string;
      const id = Number(wsId.split('x')[1]);
      const full = { ...created.json.result, company: 'US Navy' };
      const updated = await ws.post({
        operation: 'update',
        sessionName: session,
        element: JSON.stringify(full),
      });
      expect(updated.json.success, updated.body).toBe(true);
      const revised = await ws.post({
        operation: 'revise',
        sessionName: session,
        element: JSON.stringify({ id: wsId, designation: 'Rear Admiral' }),
      });
      expect(revised.json.success, revised.body).toBe(true);
      const retrieved = await ws.get({ operation: 'retrieve', sessionName: session, id: wsId });
      expect(retrieved.json.result).toEqual(revised.json.result);
      const removed = await ws.post({ operation: 'delete', sessionName: session, id: wsId });
      expect(removed.json.success, removed.body).toBe(true);

      const items = await history(h, 'Leads', id);
      expect(items.map((i) => [i.action, i.channel])).toEqual([
        ['deleted', 'webservice'],
        ['updated', 'webservice'],
        ['updated', 'webservice'],
        ['created', 'webservice'],
      ]);
      expect(change(items[2]!, 'company')).toMatchObject({ old: 'Navy', new: 'US Navy' });
      expect(change(items[1]!, 'designation')).toMatchObject({ old: null, new: 'Rear Admiral' });
      expect((await events(h, id)).map((e) => e.type)).toEqual([
        'record.created',
        'record.updated',
        'record.updated',
        'record.deleted',
      ]);
    });
  });

  describe('ownership transfer when a user is deleted', () => {
    it('moves each record through the write path: a version, history and an event per live record', async () => {
      const leaving = await h.createUser();
      const receiver = await h.createUser();
      const ids: number[] = [];
      for (const lastname of ['One', 'Two', 'Gone']) {
        const res = await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: h.admin,
          payload: { lastname, assigned_user_id: leaving.id },
        });
        expectStatus(res, 201);
        ids.push(res.json().id);
      }
      expectStatus(
        await h.request({ method: 'DELETE', url: `/api/v1/records/Contacts/${ids[2]}`, as: h.admin }),
        204,
      );
      const del = await h.request({
        method: 'DELETE',
        url: `/api/v1/users/${leaving.id}?transferTo=${receiver.id}`,
        as: h.admin,
      });
      expectStatus(del, 200);
      expect(del.json().recordsTransferred).toBe(3);

      const live = await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${ids[0]}`, as: h.admin });
      expect(live.json()).toMatchObject({ assigned_user_id: receiver.id, version: 2 });
      const [moved] = await history(h, 'Contacts', ids[0]!);
      expect(moved).toMatchObject({
        action: 'updated',
        channel: 'system',
        actor: { id: h.admin.userId, name: 'admin' },
        source: `Records of deleted user ${leaving.username} moved to ${receiver.username}`,
        changes: [{ field: 'assigned_user_id', old: leaving.id, new: receiver.id }],
      });
      // the deleted record moved too (a restore finds a live owner) and its history says so, but no
      // event goes out for a record that no longer exists
      const [gone] = await history(h, 'Contacts', ids[2]!);
      expect(gone!.changes).toEqual([
        expect.objectContaining({ field: 'assigned_user_id', old: leaving.id, new: receiver.id }),
      ]);
      expect((await events(h, ids[0]!)).map((e) => e.type)).toEqual(['record.created', 'record.updated']);
      expect((await events(h, ids[2]!)).map((e) => e.type)).toEqual(['record.created', 'record.deleted']);
      const last = (await events(h, ids[0]!))[1]!;
      expect(last.payload.record).toMatchObject({ ownerId: receiver.id, version: 2 });
      expect(last.payload.changes).toEqual({ assigned_user_id: [leaving.id, receiver.id] });
    });

    it('moves 10,000 records in one transaction', async () => {
      const leaving = await h.createUser();
      const receiver = await h.createUser();
      const db = h.ctx.db.kysely;
      const now = h.clock.now();
      const base = { module: 'Accounts', owner_id: leaving.id, created_by: leaving.id };
      for (let i = 0; i < 10_000; i += 500) {
        const rows = await db
          .insertInto('crm_entities')
          .values(
            Array.from({ length: 500 }, (_, j) => ({
              ...base,
              modified_by: leaving.id,
              created_at: now,
              modified_at: now,
              deleted_at: null,
              version: 1,
              label: `Org ${i + j}`,
            })),
          )
          .returning('id')
          .execute();
        await sql`insert into crm_accounts (id, accountname) values ${sql.join(
          rows.map((r) => sql`(${r.id}, ${`Org ${r.id}`})`),
        )}`.execute(db);
      }
      const del = await h.request({
        method: 'DELETE',
        url: `/api/v1/users/${leaving.id}?transferTo=${receiver.id}`,
        as: h.admin,
      });
      expectStatus(del, 200);
      expect(del.json().recordsTransferred).toBe(10_000);
      const count = async (table: 'record_changes' | 'domain_events') =>
        Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('module', '=', 'Accounts')
              .executeTakeFirstOrThrow()
          ).n,
        );
      expect(await count('record_changes')).toBe(10_000);
      expect(await count('domain_events')).toBe(10_000);
      const owners = await db
        .selectFrom('crm_entities')
        .select('owner_id')
        .distinct()
        .where('module', '=', 'Accounts')
        .execute();
      expect(owners).toEqual([{ owner_id: receiver.id }]);
    }, 120_000);
  });
});
