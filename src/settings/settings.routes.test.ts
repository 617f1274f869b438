import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';

describeEachDialect('organisation settings', (h) => {
  const put = (payload: Record<string, unknown>, as = h.admin) =>
    h.request({ method: 'PUT', url: '/api/v1/settings', as, payload });

  it('admins read the defaults and change any subset; the rest keeps its values; audited', async () => {
    const first = await h.request({ method: 'GET', url: '/api/v1/settings', as: h.admin });
    expectStatus(first, 200);
    expect(first.json()).toMatchObject({
      defaultCurrency: 'USD',
      defaultTimeZone: 'UTC',
      passwordPolicy: { minLength: 12, rejectUserDetails: false },
      impersonation: { requireConsent: false, maxMinutes: 60 },
    });
    const res = await put({ company: { name: 'Acme Ltd', city: 'Leeds' }, defaultCurrency: 'EUR' });
    expectStatus(res, 200);
    expect(res.json().company).toMatchObject({ name: 'Acme Ltd', city: 'Leeds', country: '' });
    const again = await put({ company: { country: 'UK' } });
    expect(again.json().company).toMatchObject({ name: 'Acme Ltd', country: 'UK' });
    expect(again.json().defaultCurrency).toBe('EUR');
    const audit = await h.request({
      method: 'GET',
      url: '/api/v1/audit?action=settings.updated',
      as: h.admin,
    });
    expect(audit.json().items[0].details.changes.company.to.country).toBe('UK');
  });

  it('non-admins read the non-sensitive parts and cannot change anything', async () => {
    const u = await h.createUser();
    const res = await h.request({ method: 'GET', url: '/api/v1/settings', as: u.session });
    expectStatus(res, 200);
    expect(res.json().company).toBeDefined();
    expect(res.json().impersonation).toBeUndefined();
    const denied = await put({ defaultCurrency: 'GBP' }, u.session);
    expectStatus(denied, 403);
    expect(errorCode(denied)).toBe('PERMISSION_DENIED');
  });

  it('rejects a currency that is not an ISO 4217 code with a message that says so', async () => {
    const junk = await put({ defaultCurrency: 'DOL' });
    expectStatus(junk, 400);
    expect(res400(junk)).toMatch(/"DOL" is not an ISO 4217 currency code/);
    expectStatus(await put({ defaultCurrency: 'CHF' }), 200);
    expectStatus(await put({ defaultCurrency: 'USD' }), 200);
  });

  it('the password minimum length can only go up from 12, and it applies to new passwords', async () => {
    const low = await put({ passwordPolicy: { minLength: 8 } });
    expectStatus(low, 400);
    expect(res400(low)).toMatch(/minLength|12/);
    expectStatus(await put({ passwordPolicy: { minLength: 16 } }), 200);
    try {
      const u = await h.createUser();
      const short = await h.request({
        method: 'POST',
        url: '/api/v1/users/me/password',
        as: u.session,
        payload: { currentPassword: u.password, newPassword: 'fifteen-chars!!' },
      });
      expectStatus(short, 400);
      expect(res400(short)).toMatch(/at least 16/);
    } finally {
      expectStatus(await put({ passwordPolicy: { minLength: 12 } }), 200);
    }
  });

  it('the default time zone applies to new users', async () => {
    expectStatus(await put({ defaultTimeZone: 'Europe/Berlin' }), 200);
    try {
      const u = await h.createUser();
      const res = await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: h.admin });
      expect(res.json().timeZone).toBe('Europe/Berlin');
    } finally {
      await put({ defaultTimeZone: 'UTC' });
    }
  });

  it.each([
    [{ defaultCurrency: 'euro' }],
    [{ defaultCurrency: 'DOL' }],
    [{ defaultCurrency: 'eur' }],
    [{ defaultTimeZone: 'Mars/Olympus' }],
    [{ impersonation: { maxMinutes: 600 } }],
    [{ company: { name: 'x', unknown: 1 } }],
    [{ somethingElse: true }],
    [{ company: { email: 'not-an-email' } }],
  ])('rejects %j with 400 and changes nothing', async (payload) => {
    const before = (await h.request({ method: 'GET', url: '/api/v1/settings', as: h.admin })).json();
    expectStatus(await put(payload), 400);
    expect((await h.request({ method: 'GET', url: '/api/v1/settings', as: h.admin })).json()).toEqual(before);
  });
});

function res400(res: { json(): unknown }): string {
  return (res.json() as { error: { message: string } }).error.message;
}
