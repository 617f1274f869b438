import { beforeAll, expect, it } from 'vitest';
import {
  describeReportDbs,
  errorCode,
  expectStatus,
  type Harness,
  type Session,
  type TestUser,
} from '../../test/harness.js';
import { csvCell } from './report-csv.js';

async function create(h: Harness, module: string, payload: Record<string, unknown>, as: Session) {
  const res = await h.request({ method: 'POST', url: `/api/v1/records/${module}`, as, payload });
  expectStatus(res, 201);
  return res.json() as { id: number };
}

const definition = {
  primary: 'Accounts',
  columns: ['Accounts.accountname', 'Accounts.annual_revenue'],
  aggregates: [{ fn: 'sum', field: 'Accounts.annual_revenue' }, { fn: 'count' }],
  sort: [{ field: 'Accounts.accountname' }],
};

/** Two sales people in private sharing: a report shared between them shows each one their own accounts. */
describeReportDbs('saved reports over REST', (h) => {
  let ann: TestUser;
  let bob: TestUser;
  let reportId: number;
  beforeAll(async () => {
    const res = await h.request({
      method: 'PUT',
      url: '/api/v1/sharing-defaults',
      as: h.admin,
      payload: { Accounts: 'private' },
    });
    expectStatus(res, 200);
    const person = await h.roleId('Sales Person');
    ann = await h.createUser({ roleId: person });
    bob = await h.createUser({ roleId: person });
    await create(h, 'Accounts', { accountname: 'Ann One', annual_revenue: 10 }, ann.session);
    await create(h, 'Accounts', { accountname: '=HYPERLINK("x")', annual_revenue: 20 }, ann.session);
    await create(h, 'Accounts', { accountname: 'Bob One', annual_revenue: 300 }, bob.session);
  });

  it('creates a report (audited), lists it for its owner only while private', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/reports',
      as: ann.session,
      payload: { name: 'My accounts', definition },
    });
    expectStatus(res, 201);
    reportId = res.json().id;
    expect(res.json()).toMatchObject({ ownerId: ann.id, visibility: 'private', editable: true });
    const mine = await h.request({ method: 'GET', url: '/api/v1/reports', as: ann.session });
    expect(mine.json().items.map((r: { id: number }) => r.id)).toContain(reportId);
    const theirs = await h.request({ method: 'GET', url: '/api/v1/reports', as: bob.session });
    expect(theirs.json().items.map((r: { id: number }) => r.id)).not.toContain(reportId);
    const direct = await h.request({
      method: 'POST',
      url: `/api/v1/reports/${reportId}/run`,
      as: bob.session,
    });
    expect(direct.statusCode).toBe(404);
    const audit = await h.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'actor_user_id'])
      .where('target_type', '=', 'report')
      .where('target_id', '=', String(reportId))
      .execute();
    expect(audit).toEqual([{ action: 'report.created', actor_user_id: ann.id }]);
  });

  it('shares the definition, not the data: each viewer sees their own rows and totals', async () => {
    const share = await h.request({
      method: 'PATCH',
      url: `/api/v1/reports/${reportId}`,
      as: ann.session,
      payload: { visibility: 'shared', sharedUserIds: [bob.id] },
    });
    expectStatus(share, 200);
    const asAnn = await h.request({
      method: 'POST',
      url: `/api/v1/reports/${reportId}/run`,
      as: ann.session,
    });
    expectStatus(asAnn, 200);
    expect(asAnn.json()).toMatchObject({
      rows: [
        ['=HYPERLINK("x")', 20],
        ['Ann One', 10],
      ],
      totals: [30, 2],
    });
    const asBob = await h.request({
      method: 'POST',
      url: `/api/v1/reports/${reportId}/run`,
      as: bob.session,
    });
    expectStatus(asBob, 200);
    expect(asBob.json()).toMatchObject({ rows: [['Bob One', 300]], totals: [300, 1] });
    const edit = await h.request({
      method: 'PATCH',
      url: `/api/v1/reports/${reportId}`,
      as: bob.session,
      payload: { name: 'Mine now' },
    });
    expect(edit.statusCode).toBe(403);
    expect(errorCode(edit)).toBe('REPORT_PERMISSION_DENIED');
  });

  it('exports CSV as the viewer sees it, escaping formulas, with an optional BOM', async () => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/reports/${reportId}/export.csv?bom=true`,
      as: ann.session,
    });
    expectStatus(res, 200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.headers['content-disposition']).toContain('My accounts.csv');
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(res.body.replace(/^\uFEFF/, '').split('\n')).toEqual([
      'Organization Name,Annual Revenue',
      `"'=HYPERLINK(""x"")",20`,
      'Ann One,10',
      '',
    ]);
    const bobCsv = await h.request({
      method: 'GET',
      url: `/api/v1/reports/${reportId}/export.csv`,
      as: bob.session,
    });
    expect(bobCsv.body).toBe('Organization Name,Annual Revenue\nBob One,300\n');
  });

  it('a related record the viewer may not see shows as empty, and filtering by it finds nothing', async () => {
    const bobsAccount = await h.request({
      method: 'GET',
      url: '/api/v1/records/Accounts?filter[accountname]=Bob%20One',
      as: bob.session,
    });
    const accountId = bobsAccount.json().items[0].id as number;
    // admin files a contact of Ann's under Bob's organization
    await create(
      h,
      'Contacts',
      { lastname: 'Crossed', account_id: accountId, assigned_user_id: ann.id },
      h.admin,
    );
    const def = {
      primary: 'Contacts',
      related: [{ module: 'Accounts', via: 'account_id' }],
      columns: ['Contacts.lastname', 'Accounts.accountname'],
    };
    const asAnn = await h.request({
      method: 'POST',
      url: '/api/v1/reports/run',
      as: ann.session,
      payload: { definition: def },
    });
    expectStatus(asAnn, 200);
    expect(asAnn.json().rows).toEqual([['Crossed', null]]);
    const filtered = await h.request({
      method: 'POST',
      url: '/api/v1/reports/run',
      as: ann.session,
      payload: {
        definition: { ...def, filter: { field: 'Accounts.accountname', op: 'eq', value: 'Bob One' } },
      },
    });
    expect(filtered.json().rows).toEqual([]);
    const asAdmin = await h.request({
      method: 'POST',
      url: '/api/v1/reports/run',
      as: h.admin,
      payload: { definition: def },
    });
    expect(asAdmin.json().rows).toEqual([['Crossed', 'Bob One']]);
  });

  it('shows reference and owner fields by name, as the viewer sees them, in cells, group keys and CSV', async () => {
    const annOne = (
      await h.request({
        method: 'GET',
        url: '/api/v1/records/Accounts?filter[accountname]=Ann%20One',
        as: ann.session,
      })
    ).json().items[0].id as number;
    for (const lastname of ['Ref1', 'Ref2'])
      await create(h, 'Contacts', { lastname, account_id: annOne }, ann.session);
    const def = {
      type: 'summary',
      primary: 'Contacts',
      columns: ['Contacts.lastname', 'Contacts.account_id', 'Contacts.assigned_user_id'],
      filter: { field: 'Contacts.lastname', op: 'in', value: ['Ref1', 'Ref2', 'Crossed'] },
      groupBy: ['Contacts.account_id'],
      aggregates: [{ fn: 'count' }],
    };
    const run = async (as: Session) => {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/reports/run',
        as,
        payload: { definition: def },
      });
      expectStatus(res, 200);
      const body = res.json();
      const byName = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
      return {
        rows: [...body.rows].sort(byName),
        groups: body.groups
          .map((g: { keys: unknown[]; values: unknown[] }) => [...g.keys, ...g.values])
          .sort(byName),
      };
    };
    // Bob's organization is not Ann's to see: its name shows as empty, and still as its own group
    expect(await run(ann.session)).toEqual({
      rows: [
        ['Crossed', null, 'Tester'],
        ['Ref1', 'Ann One', 'Tester'],
        ['Ref2', 'Ann One', 'Tester'],
      ],
      groups: [
        ['Ann One', 2],
        [null, 1],
      ],
    });
    expect((await run(h.admin)).groups).toEqual([
      ['Ann One', 2],
      ['Bob One', 1],
    ]);
    // a name built from a field masked for the viewer is masked
    const rule = await h.request({
      method: 'POST',
      url: '/api/v1/masking/rules',
      as: h.admin,
      payload: {
        module: 'Accounts',
        field: 'accountname',
        level: 'role',
        roleIds: [await h.roleId('Sales Person')],
      },
    });
    expectStatus(rule, 201);
    try {
      expect((await run(ann.session)).groups).toEqual([
        ['******', 2],
        [null, 1],
      ]);
      const saved = await h.request({
        method: 'POST',
        url: '/api/v1/reports',
        as: ann.session,
        payload: { name: 'Contacts by organization', definition: { ...def, type: 'detail', groupBy: [] } },
      });
      expectStatus(saved, 201);
      const csv = await h.request({
        method: 'GET',
        url: `/api/v1/reports/${saved.json().id}/export.csv`,
        as: ann.session,
      });
      expect(csv.body.trim().split('\n').slice(1).sort()).toEqual([
        'Crossed,,Tester',
        'Ref1,******,Tester',
        'Ref2,******,Tester',
      ]);
    } finally {
      await h.request({ method: 'DELETE', url: `/api/v1/masking/rules/${rule.json().id}`, as: h.admin });
    }
  });

  it('refuses modules the viewer may not see, and deletes (audited)', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/reports/run',
      as: bob.session,
      payload: { definition: { primary: 'Nope', columns: [] } },
    });
    expect(res.statusCode).toBe(404);
    const del = await h.request({ method: 'DELETE', url: `/api/v1/reports/${reportId}`, as: ann.session });
    expect(del.statusCode).toBe(204);
    const gone = await h.request({ method: 'GET', url: `/api/v1/reports/${reportId}`, as: ann.session });
    expect(gone.statusCode).toBe(404);
  });

  it('describes the sources a report on Quotes can use', async () => {
    const res = await h.request({ method: 'GET', url: '/api/v1/reports/sources/Quotes', as: ann.session });
    expectStatus(res, 200);
    const names = res
      .json()
      .items.map((s: { name: string; cardinality: string }) => `${s.name}:${s.cardinality}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'Quotes:primary',
        'Accounts:one',
        'Contacts:one',
        'LineItems:many',
        'Products:one',
      ]),
    );
  });
});

it('csv cells that a spreadsheet would run as a formula are escaped', () => {
  expect(
    ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', 'plain', -5, null, true].map((v) => csvCell(v as never)),
  ).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", 'plain', -5, '', '1']);
});
