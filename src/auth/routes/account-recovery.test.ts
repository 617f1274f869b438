import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../../test/harness.js';
import { lastTokenFor, outboxFor } from '../../mail/mail.test-helpers.js';

describeEachDialect('forgot password', (h) => {
  const forgot = (payload: Record<string, unknown>, remoteAddress = '198.51.100.1') =>
    h.request({ method: 'POST', url: '/api/v1/auth/forgot-password', payload, remoteAddress });
  const reset = (token: string, newPassword: string) =>
    h.request({ method: 'POST', url: '/api/v1/auth/reset-password', payload: { token, newPassword } });

  it('answers the same whether or not the account exists, and mails a link only to a real one', async () => {
    const u = await h.createUser();
    const known = await forgot({ username: u.username });
    const unknown = await forgot({ username: 'nobody-at-all' });
    expectStatus(known, 202);
    expectStatus(unknown, 202);
    expect(unknown.body).toBe(known.body);
    const mails = await outboxFor(h, `${u.username}@example.com`);
    expect(mails[0]!.subject).toMatch(/reset/i);
    expect(mails[0]!.text).toContain('/reset-password?token=');
  });

  it('a reset link sets a new password once; every session ends; the link cannot be reused', async () => {
    const u = await h.createUser();
    expectStatus(await forgot({ email: `${u.username}@EXAMPLE.com` }), 202);
    const token = await lastTokenFor(h, `${u.username}@example.com`);
    const res = await reset(token, 'my new reset password');
    expectStatus(res, 200);
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: u.session }), 401);
    await h.login(u.username, 'my new reset password');
    const reused = await reset(token, 'another new password');
    expectStatus(reused, 400);
    expect(errorCode(reused)).toBe('TOKEN_USED');
    // the link came to the address, so it is now verified
    expect(
      (await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: h.admin })).json().emailVerified,
    ).toBe(true);
  });

  it('refuses an expired link after 1 hour', async () => {
    const u = await h.createUser();
    await forgot({ username: u.username });
    const token = await lastTokenFor(h, `${u.username}@example.com`);
    h.clock.advance(3_600_000);
    const res = await reset(token, 'my new reset password');
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('TOKEN_EXPIRED');
    await h.login(u.username, u.password);
  });

  it('a weak new password is refused without spending the link', async () => {
    const u = await h.createUser();
    await forgot({ username: u.username });
    const token = await lastTokenFor(h, `${u.username}@example.com`);
    const weak = await reset(token, 'password1234');
    expectStatus(weak, 400);
    expect(errorCode(weak)).toBe('PASSWORD_TOO_WEAK');
    expectStatus(await reset(token, 'a strong enough one'), 200);
  });

  it('changing the password otherwise makes outstanding reset links useless', async () => {
    const u = await h.createUser();
    await forgot({ username: u.username });
    const token = await lastTokenFor(h, `${u.username}@example.com`);
    expectStatus(
      await h.request({
        method: 'POST',
        url: `/api/v1/users/${u.id}/password`,
        as: h.admin,
        payload: { newPassword: 'admin chose this one' },
      }),
      200,
    );
    expect(errorCode(await reset(token, 'my new reset password'))).toBe('TOKEN_USED');
  });

  it('needs both to match when username and email are given, and nothing for inactive users', async () => {
    const u = await h.createUser();
    const inactive = await h.createUser({ status: 'Inactive' }).catch(() => null);
    await forgot({ username: u.username, email: 'wrong@example.com' });
    expect((await outboxFor(h, `${u.username}@example.com`)).filter((m) => /reset/i.test(m.subject))).toEqual(
      [],
    );
    expect(inactive).toBeNull();
  });

  it('is rate-limited per identifier and per IP with 429', async () => {
    for (let i = 0; i < 5; i++) expectStatus(await forgot({ username: 'rate-me' }, '198.51.100.7'), 202);
    const limited = await forgot({ username: 'rate-me' }, '198.51.100.8');
    expectStatus(limited, 429);
    expect(limited.headers['retry-after']).toBe('3600');
    for (let i = 0; i < 20; i++) await forgot({ username: `n${i}` }, '198.51.100.9');
    expectStatus(await forgot({ username: 'fresh-name' }, '198.51.100.9'), 429);
    h.clock.advance(3_600_001);
    expectStatus(await forgot({ username: 'rate-me' }, '198.51.100.7'), 202);
  });

  it('rejects bad bodies with 400', async () => {
    expectStatus(await forgot({}), 400);
    expectStatus(await forgot({ username: 'x', extra: 1 }), 400);
    expectStatus(await reset('', 'whatever-long-enough'), 400);
  });
});
