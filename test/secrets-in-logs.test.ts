import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, describeEachDialect } from './harness.js';

describeEachDialect('secrets never reach the log', (h) => {
  it('passwords, session tokens and CSRF tokens are absent from every log line', async () => {
    const u = await h.createUser();
    await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: u.username, password: 'wrong-password-in-log-test' },
    });
    await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: `{"username":"x","password":"${'malformed-secret'}"`,
    });
    await h.request({ method: 'GET', url: '/api/v1/me?token=query-secret-value', as: u.session });
    const logs = h.allLogs();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [
      ADMIN_PASSWORD,
      u.password,
      'wrong-password-in-log-test',
      'malformed-secret',
      'query-secret-value',
      u.session.cookie.split('=')[1]!,
      u.session.csrfToken,
    ]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('a database dump holds no password in clear', async () => {
    const u = await h.createUser();
    const rows = await h.ctx.db.kysely.selectFrom('users').selectAll().execute();
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(u.password);
    expect(dump).not.toContain(ADMIN_PASSWORD);
    const sessions = JSON.stringify(await h.ctx.db.kysely.selectFrom('sessions').selectAll().execute());
    expect(sessions).not.toContain(u.session.cookie.split('=')[1]!);
  });
});
