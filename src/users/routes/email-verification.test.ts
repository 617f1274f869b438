import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, describeEachDialect, errorCode, expectStatus } from '../../../test/harness.js';
import { lastTokenFor, outboxFor } from '../../mail/mail.test-helpers.js';

describeEachDialect('email verification', (h) => {
  const verify = (token: string) =>
    h.request({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token } });

  it('a new user gets a verification link; following it once verifies the address', async () => {
    const u = await h.createUser();
    const before = await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: h.admin });
    expect(before.json()).toMatchObject({ emailVerified: false, emailVerifiedAt: null });
    const mail = (await outboxFor(h, `${u.username}@example.com`))[0]!;
    expect(mail.subject).toMatch(/verify/i);
    expect(mail.text).toContain(`${h.ctx.config.publicUrl}/verify-email?token=`);
    const token = await lastTokenFor(h, `${u.username}@example.com`);
    const res = await verify(token);
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({ email: `${u.username}@example.com`, emailVerified: true });
    const after = await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: h.admin });
    expect(after.json()).toMatchObject({
      emailVerified: true,
      emailVerifiedAt: new Date(h.clock.now()).toISOString(),
    });
    const again = await verify(token);
    expectStatus(again, 400);
    expect(errorCode(again)).toBe('TOKEN_USED');
  });

  it('refuses an expired link (24 hours) and an unknown one', async () => {
    const u = await h.createUser();
    const token = await lastTokenFor(h, `${u.username}@example.com`);
    h.clock.advance(24 * 3_600_000 + 1);
    // a day later every session has ended too
    h.admin = await h.login('admin', ADMIN_PASSWORD);
    const res = await verify(token);
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('TOKEN_EXPIRED');
    expect(errorCode(await verify('not-a-real-token'))).toBe('TOKEN_INVALID');
    expect(
      (await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: h.admin })).json().emailVerified,
    ).toBe(false);
  });

  it('changing the email makes it unverified and sends a link to the new address; the old link no longer verifies', async () => {
    const u = await h.createUser();
    const oldToken = await lastTokenFor(h, `${u.username}@example.com`);
    expectStatus(await verify(oldToken), 200);
    const secondOld = await h.request({
      method: 'POST',
      url: `/api/v1/users/${u.id}/verification-email`,
      as: h.admin,
    });
    expectStatus(secondOld, 409);
    expect(errorCode(secondOld)).toBe('EMAIL_ALREADY_VERIFIED');
    const res = await h.request({
      method: 'PATCH',
      url: `/api/v1/users/${u.id}`,
      as: h.admin,
      payload: { email: `new-${u.username}@example.com` },
    });
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({ emailVerified: false, emailVerifiedAt: null });
    expect(res.json().warnings.join(' ')).toMatch(/verification link/);
    const token = await lastTokenFor(h, `new-${u.username}@example.com`);
    expectStatus(await verify(token), 200);
  });

  it('a link sent to an address the user no longer has does not verify the new one', async () => {
    const u = await h.createUser();
    const token = await lastTokenFor(h, `${u.username}@example.com`);
    await h.ctx.db.kysely
      .updateTable('users')
      .set({ email: 'other@example.com' })
      .where('id', '=', u.id)
      .execute();
    const res = await verify(token);
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('TOKEN_INVALID');
  });

  it('admins resend the link; the earlier link stops working; non-admins cannot for others', async () => {
    const u = await h.createUser();
    const first = await lastTokenFor(h, `${u.username}@example.com`);
    const res = await h.request({
      method: 'POST',
      url: `/api/v1/users/${u.id}/verification-email`,
      as: h.admin,
    });
    expectStatus(res, 202);
    const second = await lastTokenFor(h, `${u.username}@example.com`);
    expect(second).not.toBe(first);
    expect(errorCode(await verify(first))).toBe('TOKEN_USED');
    const other = await h.createUser();
    const denied = await h.request({
      method: 'POST',
      url: `/api/v1/users/${u.id}/verification-email`,
      as: other.session,
    });
    expectStatus(denied, 403);
    expectStatus(
      await h.request({ method: 'POST', url: '/api/v1/users/me/verification-email', as: other.session }),
      202,
    );
    expectStatus(await verify(second), 200);
  });

  it('sends at most 5 links to one user per hour, counting the one sent at creation; audited', async () => {
    const u = await h.createUser();
    const send = () =>
      h.request({ method: 'POST', url: `/api/v1/users/${u.id}/verification-email`, as: h.admin });
    for (let i = 0; i < 4; i++) expectStatus(await send(), 202);
    const limited = await send();
    expectStatus(limited, 429);
    expect(errorCode(limited)).toBe('TOO_MANY_REQUESTS');
    expect(limited.headers['retry-after']).toBe('3600');
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.verification_sent&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expect(audit.json().items).toHaveLength(4);
    expect(audit.json().items[0].details.email).toBe(`${u.username}@example.com`);
  });

  it('never stores the token itself', async () => {
    const u = await h.createUser();
    const token = await lastTokenFor(h, `${u.username}@example.com`);
    const rows = await h.ctx.db.kysely
      .selectFrom('user_tokens')
      .select('token_hash')
      .where('user_id', '=', u.id)
      .execute();
    expect(rows.map((r) => r.token_hash)).not.toContain(token);
  });
});
