import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';
import { lastTokenFor } from '../mail/mail.test-helpers.js';
import { NoSuchUserError, resetPasswordFromCli } from './reset-password.js';

describeEachDialect('rapport reset-password (the CLI goes through the password service)', (h) => {
  const putSettings = (payload: Record<string, unknown>) =>
    h.request({ method: 'PUT', url: '/api/v1/settings', as: h.admin, payload });
  const me = (session: Parameters<typeof h.request>[0]['as']) =>
    h.request({ method: 'GET', url: '/api/v1/me', as: session });

  it('sets the password, ends every session, revokes emailed reset links and is audited as the CLI', async () => {
    const u = await h.createUser();
    const forgot = await h.request({
      method: 'POST',
      url: '/api/v1/auth/forgot-password',
      payload: { username: u.username },
      remoteAddress: '198.51.100.77',
    });
    expectStatus(forgot, 202);
    const token = await lastTokenFor(h, `${u.username}@example.com`);
    expectStatus(await me(u.session), 200);

    const done = await resetPasswordFromCli(h.ctx, u.username, 'operator chose this one');
    expect(done).toMatchObject({ username: u.username, generated: false, sessionsEnded: 1 });

    expectStatus(await me(u.session), 401);
    await h.login(u.username, 'operator chose this one');
    const reused = await h.request({
      method: 'POST',
      url: '/api/v1/auth/reset-password',
      payload: { token, newPassword: 'the link should not work' },
    });
    expectStatus(reused, 400);
    expect(errorCode(reused)).toBe('TOKEN_USED');

    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.password_reset&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expectStatus(audit, 200);
    const [entry] = audit.json().items;
    expect(entry).toMatchObject({
      action: 'user.password_reset',
      outcome: 'success',
      actor: { userId: null, username: 'cli' },
      details: { by: 'cli', sessionsEnded: 1 },
    });
    expect(JSON.stringify(entry)).not.toContain('operator chose this one');
  });

  it("refuses a password the organisation's policy refuses, and changes nothing", async () => {
    const u = await h.createUser();
    await expect(resetPasswordFromCli(h.ctx, u.username, 'password1234')).rejects.toMatchObject({
      code: 'PASSWORD_TOO_WEAK',
    });
    expectStatus(await putSettings({ passwordPolicy: { minLength: 30, rejectUserDetails: true } }), 200);
    try {
      await expect(
        resetPasswordFromCli(h.ctx, u.username, 'twenty-nine characters long!!'),
      ).rejects.toMatchObject({ code: 'PASSWORD_TOO_WEAK', message: expect.stringMatching(/at least 30/) });
      await expect(
        resetPasswordFromCli(h.ctx, u.username, `${u.username}-is-my-very-own-long-password`),
      ).rejects.toMatchObject({ code: 'PASSWORD_TOO_WEAK' });
      // still signed in, old password still works
      expectStatus(await me(u.session), 200);
      await h.login(u.username, u.password);

      // a generated password meets the raised policy
      const done = await resetPasswordFromCli(h.ctx, u.username);
      expect(done.generated).toBe(true);
      expect(done.password.length).toBeGreaterThanOrEqual(30);
      await h.login(u.username, done.password);
    } finally {
      expectStatus(await putSettings({ passwordPolicy: { minLength: 12, rejectUserDetails: false } }), 200);
    }
  });

  it('refuses a username that names no user', async () => {
    await expect(
      resetPasswordFromCli(h.ctx, 'nobody-here', 'a perfectly fine password'),
    ).rejects.toBeInstanceOf(NoSuchUserError);
  });
});
