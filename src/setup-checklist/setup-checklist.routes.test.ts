import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';

describeEachDialect('setup checklist', (h) => {
  it('lists the five pilot steps in order, not started', async () => {
    const res = await h.request({ method: 'GET', url: '/api/v1/setup-checklist', as: h.admin });
    expectStatus(res, 200);
    expect(res.json().steps.map((s: { key: string }) => s.key)).toEqual([
      'identify_team',
      'decide_scope',
      'design_flow',
      'configure',
      'test',
    ]);
    expect(res.json()).toMatchObject({ completed: 0, total: 5 });
    expect(res.json().steps[0]).toMatchObject({
      status: 'not_started',
      notes: '',
      updatedBy: null,
      updatedAt: null,
    });
  });

  it('an admin records status and notes; who and when are kept; audited', async () => {
    const res = await h.request({
      method: 'PATCH',
      url: '/api/v1/setup-checklist',
      as: h.admin,
      payload: {
        steps: [
          { key: 'identify_team', status: 'done', notes: 'Sales EMEA' },
          { key: 'decide_scope', status: 'in_progress' },
        ],
      },
    });
    expectStatus(res, 200);
    const [team, scope] = res.json().steps;
    expect(team).toMatchObject({
      status: 'done',
      notes: 'Sales EMEA',
      updatedBy: { id: h.admin.userId, username: 'admin' },
      updatedAt: new Date(h.clock.now()).toISOString(),
    });
    expect(scope).toMatchObject({ status: 'in_progress', notes: '' });
    expect(res.json().completed).toBe(1);
    const audit = await h.request({
      method: 'GET',
      url: '/api/v1/audit?action=setup_checklist.updated',
      as: h.admin,
    });
    expect(audit.json().items[0].details.changes.identify_team.status).toEqual({
      from: 'not_started',
      to: 'done',
    });
  });

  it('refuses non-admins, unknown steps, bad statuses and repeated steps with a 4xx', async () => {
    const u = await h.createUser();
    const denied = await h.request({
      method: 'PATCH',
      url: '/api/v1/setup-checklist',
      as: u.session,
      payload: { steps: [{ key: 'test', status: 'done' }] },
    });
    expectStatus(denied, 403);
    expect(errorCode(denied)).toBe('PERMISSION_DENIED');
    for (const steps of [
      [{ key: 'nope', status: 'done' }],
      [{ key: 'test', status: 'finished' }],
      [],
      [{ key: 'test' }, { key: 'test' }],
    ]) {
      expectStatus(
        await h.request({ method: 'PATCH', url: '/api/v1/setup-checklist', as: h.admin, payload: { steps } }),
        400,
      );
    }
  });
});
