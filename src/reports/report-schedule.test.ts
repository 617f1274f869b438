import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus, type TestUser } from '../../test/harness.js';
import { nextRunAfter, runDueSchedules } from './report-schedule.service.js';

const HOUR = 3_600_000;

/** The harness clock starts at Monday 2026-11-23 09:00 UTC. */
describeEachDialect('scheduled reports', (h) => {
  let ann: TestUser;
  let bob: TestUser;
  let carl: TestUser;
  let reportId: number;
  const mails = () =>
    h.ctx.db.kysely
      .selectFrom('mail_queue')
      .select(['to_address', 'subject', 'text_body'])
      .where('subject', 'like', 'Report:%')
      .orderBy('id')
      .execute();

  beforeAll(async () => {
    await h.request({
      method: 'PUT',
      url: '/api/v1/sharing-defaults',
      as: h.admin,
      payload: { Accounts: 'private' },
    });
    const person = await h.roleId('Sales Person');
    ann = await h.createUser({ roleId: person });
    bob = await h.createUser({ roleId: person });
    carl = await h.createUser({ roleId: person });
    for (const [who, name] of [
      [ann, 'Ann Account'],
      [bob, 'Bob Account'],
    ] as const) {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/records/Accounts',
        as: who.session,
        payload: { accountname: name },
      });
      expectStatus(res, 201);
    }
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/reports',
      as: ann.session,
      payload: { name: 'Accounts', definition: { primary: 'Accounts', columns: ['Accounts.accountname'] } },
    });
    expectStatus(res, 201);
    reportId = res.json().id;
  });

  it('only the owner schedules, and bad schedules are refused', async () => {
    const other = await h.request({
      method: 'POST',
      url: `/api/v1/reports/${reportId}/schedules`,
      as: bob.session,
      payload: { frequency: 'daily', recipientUserIds: [bob.id] },
    });
    expect(other.statusCode).toBe(404);
    const bad = await h.request({
      method: 'POST',
      url: `/api/v1/reports/${reportId}/schedules`,
      as: ann.session,
      payload: { frequency: 'weekly', recipientUserIds: [ann.id] },
    });
    expect(bad.statusCode).toBe(400);
    expect(errorCode(bad)).toBe('REPORT_INVALID');
    const time = await h.request({
      method: 'POST',
      url: `/api/v1/reports/${reportId}/schedules`,
      as: ann.session,
      payload: { frequency: 'daily', timeUtc: '25:00', recipientUserIds: [ann.id] },
    });
    expect(time.statusCode).toBe(400);
  });
  it('sends each user recipient the report as they see it, addresses as the owner sees it, once per period', async () => {
    const res = await h.request({
      method: 'POST',
      url: `/api/v1/reports/${reportId}/schedules`,
      as: ann.session,
      payload: {
        frequency: 'daily',
        timeUtc: '10:00',
        recipientUserIds: [ann.id, bob.id, carl.id],
        recipientEmails: ['boss@example.org'],
      },
    });
    expectStatus(res, 201);
    expect(res.json()).toMatchObject({ nextRunAt: '2026-11-23T10:00:00.000Z', enabled: true });
    expect(await runDueSchedules(h.ctx)).toBe(0);
    h.clock.advance(HOUR + 1000);
    // two replicas at once: only one takes the period
    const [a, b] = await Promise.all([runDueSchedules(h.ctx), runDueSchedules(h.ctx)]);
    expect(a + b).toBe(3);
    expect(await runDueSchedules(h.ctx)).toBe(0);
    const sent = await mails();
    const byTo = new Map(sent.map((m) => [m.to_address, m.text_body]));
    // carl sees no accounts: an empty result is not sent
    expect([...byTo.keys()].sort()).toEqual(
      [ann.username, bob.username, 'boss'].map((n) => `${n}@example.${n === 'boss' ? 'org' : 'com'}`).sort(),
    );
    expect(byTo.get(`${bob.username}@example.com`)).toContain('Bob Account');
    expect(byTo.get(`${bob.username}@example.com`)).not.toContain('Ann Account');
    expect(byTo.get('boss@example.org')).toContain('Ann Account');
    expect(byTo.get('boss@example.org')).not.toContain('Bob Account');
    const audit = await h.ctx.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('target_type', '=', 'report')
      .where('target_id', '=', String(reportId))
      .orderBy('id')
      .execute();
    expect(audit.map((x) => x.action)).toEqual([
      'report.created',
      'report.schedule_created',
      'report.schedule_sent',
    ]);
    h.clock.advance(24 * HOUR);
    expect(await runDueSchedules(h.ctx)).toBe(3);
  });
});

describe('schedule timing', () => {
  const mon = Date.UTC(2026, 10, 23, 9, 0); // Monday
  it('daily, weekly on chosen days, monthly (clamped), once', () => {
    expect(nextRunAfter({ frequency: 'daily', timeUtc: '08:00' }, mon)).toBe(Date.UTC(2026, 10, 24, 8));
    expect(nextRunAfter({ frequency: 'weekly', weekdays: [3, 5], timeUtc: '09:30' }, mon)).toBe(
      Date.UTC(2026, 10, 25, 9, 30),
    );
    expect(nextRunAfter({ frequency: 'monthly', dayOfMonth: 31, timeUtc: '08:00' }, mon)).toBe(
      Date.UTC(2026, 10, 30, 8),
    );
    expect(nextRunAfter({ frequency: 'once', onDate: '2026-12-01', timeUtc: '07:00' }, mon)).toBe(
      Date.UTC(2026, 11, 1, 7),
    );
    expect(nextRunAfter({ frequency: 'once', onDate: '2026-01-01' }, mon)).toBeNull();
  });
});
