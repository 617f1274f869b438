import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDialect, expectStatus, type Harness, type Session } from '../../test/harness.js';
import { WsKit } from '../../test/ws-kit.js';
import { loadPrincipal } from '../roles/role.repository.js';
import { findUserByUsername } from '../users/user.repository.js';
import { searchRecords } from './record-search.service.js';
import { clearSearchIndex, rebuildSearchIndexIfStale } from './record-search-index.js';

async function create(h: Harness, as: Session, module: string, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as, payload });
  expectStatus(res, 201);
  return res.json() as { id: number; version: number } & Record<string, unknown>;
}

async function search(h: Harness, as: Session, q: string) {
  const res = await h.request({ method: 'GET', url: `/api/v1/search?q=${encodeURIComponent(q)}`, as });
  expectStatus(res, 200);
  return res.json().items as Array<{
    module: string;
    id: number;
    label: string;
    matched: { field: string }[];
  }>;
}

describeEachDialect('global search', (h) => {
  let jane: number;
  let acme: number;

  beforeAll(async () => {
    acme = (await create(h, h.admin, 'Accounts', { accountname: 'Acme Rockets', phone: '+44 20 7946 0000' }))
      .id;
    jane = (
      await create(h, h.admin, 'Contacts', {
        firstname: 'Jane',
        lastname: 'Doe',
        email: 'jane.doe@example.com',
        mobile: '(555) 010-4477',
        account_id: acme,
      })
    ).id;
    await create(h, h.admin, 'Contacts', { firstname: 'Janet', lastname: 'Zoë Müller' });
    await create(h, h.admin, 'Leads', { lastname: 'Doe', company: 'Doe & Sons' });
  });

  it('finds records by first name, full name, email, phone and number, across modules, best first', async () => {
    const byFirst = await search(h, h.admin, 'jane');
    expect(byFirst.map((x) => x.label)).toEqual(expect.arrayContaining(['Jane Doe', 'Janet Zoë Müller']));
    const full = await search(h, h.admin, 'Jane Doe');
    expect(full[0]).toMatchObject({ module: 'Contacts', id: jane, label: 'Jane Doe' });
    expect(full).toHaveLength(1);
    const doe = await search(h, h.admin, 'doe');
    expect(doe.map((x) => x.module).sort()).toEqual(['Contacts', 'Leads']);
    const email = await search(h, h.admin, 'jane.doe@example');
    expect(email[0]).toMatchObject({ id: jane, matched: [{ field: 'email' }] });
    expect((await search(h, h.admin, '0104477'))[0]?.id).toBe(jane);
    expect((await search(h, h.admin, '7946'))[0]?.id).toBe(acme);
    expect((await search(h, h.admin, 'zoe muller'))[0]?.label).toBe('Janet Zoë Müller');
    const acc = await h.request({ method: 'GET', url: `/api/v1/records/Accounts/${acme}`, as: h.admin });
    expect((await search(h, h.admin, acc.json().account_no))[0]?.id).toBe(acme);
  });

  it('follows changes from every channel in the same transaction, and forgets deleted records', async () => {
    const c = await create(h, h.admin, 'Contacts', { firstname: 'Quentin', lastname: 'Quartz' });
    expect(await search(h, h.admin, 'quartz')).toHaveLength(1);
    const ws = new WsKit(h);
    await ws.start();
    const session = await ws.login('admin', h.admin.userId);
    const revised = await ws.post({
      operation: 'revise',
      sessionName: session,
      element: JSON.stringify({ id: `12x${c.id}`, lastname: 'Quill' }),
    });
    expect(revised.json.success, revised.body).toBe(true);
    expect(await search(h, h.admin, 'quartz')).toHaveLength(0);
    expect(await search(h, h.admin, 'quill')).toHaveLength(1);
    const del = await h.request({
      method: 'DELETE',
      url: `/api/v1/records/Contacts/${c.id}`,
      as: h.admin,
      headers: { 'if-match': '"2"' },
    });
    expect(del.statusCode, del.body).toBeLessThan(300);
    expect(await search(h, h.admin, 'quill')).toHaveLength(0);
  });

  it('shows a user only what sharing lets them see', async () => {
    const put = await h.request({
      method: 'PUT',
      url: '/api/v1/sharing-defaults',
      as: h.admin,
      payload: { Contacts: 'private', Accounts: 'private', Leads: 'private' },
    });
    expectStatus(put, 200);
    const roles = await h.ctx.db.kysely.selectFrom('roles').select(['id', 'name']).execute();
    const rep = await h.createUser({ roleId: roles.find((r) => r.name === 'Sales Person')?.id });
    expect(await search(h, rep.session, 'jane')).toHaveLength(0);
    const mine = await create(h, rep.session, 'Contacts', { firstname: 'Jane', lastname: 'Private' });
    const found = await search(h, rep.session, 'jane');
    expect(found.map((x) => x.id)).toEqual([mine.id]);
  });

  it('past the candidate limit, both databases rank the newest live records that match every word', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 8; i++)
      ids.push((await create(h, h.admin, 'Contacts', { firstname: 'Quillon', lastname: `Vex ${i}` })).id);
    // the second word only on the two oldest: a limit applied before it narrows would lose them
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: `/api/v1/records/Contacts/${ids[0]}`,
        as: h.admin,
        payload: { firstname: 'Quillon Marrow', version: 1 },
      }),
      200,
    );
    const second = (await create(h, h.admin, 'Contacts', { firstname: 'Quillon Marrow', lastname: 'Old' }))
      .id;
    expectStatus(
      await h.request({ method: 'DELETE', url: `/api/v1/records/Contacts/${ids[7]}`, as: h.admin }),
      204,
    );
    const admin = await loadPrincipal(h.ctx.db.kysely, (await findUserByUsername(h.ctx.db.kysely, 'admin'))!);
    const found = async (q: string) =>
      (await searchRecords(h.ctx, admin, q, 20, 3)).map((x) => x.id).sort((a, b) => a - b);
    // the three newest live ones (the newest is deleted)
    expect(await found('quillon')).toEqual([ids[6]!, second].concat(ids[5]!).sort((a, b) => a - b));
    expect(await found('quillon marrow')).toEqual([ids[0]!, second].sort((a, b) => a - b));
  });

  it('rebuilds a stale index from the records', async () => {
    await clearSearchIndex(h.ctx.db);
    expect(await search(h, h.admin, 'jane doe')).toHaveLength(0);
    expect(await rebuildSearchIndexIfStale(h.ctx)).toBeGreaterThan(3);
    expect((await search(h, h.admin, 'jane doe'))[0]?.id).toBe(jane);
    // current now: nothing to do at the next start
    expect(await rebuildSearchIndexIfStale(h.ctx)).toBe(0);
  });

  it('answers any query with 200 or a clear 400, never an error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 250, unit: 'binary' }), async (q) => {
        const res = await h.request({
          method: 'GET',
          url: `/api/v1/search?q=${encodeURIComponent(q)}`,
          as: h.admin,
        });
        expect([200, 400], res.body).toContain(res.statusCode);
      }),
      { numRuns: 60 },
    );
  });
});
