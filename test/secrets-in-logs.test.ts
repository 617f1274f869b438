import { expect, it } from 'vitest';
import { generateAccessKey } from '../src/access-keys/access-key.format.js';
import { createLogger, redactKeys } from '../src/platform/logger.js';
import { ADMIN_PASSWORD, describeEachDialect, expectStatus } from './harness.js';
import { md5 } from './ws-kit.js';

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

  it('an access key is redacted by its shape wherever it appears: odd query parameters, VTQL, bodies (finding 8)', async () => {
    const u = await h.createUser();
    expectStatus(
      await h.request({
        method: 'PUT',
        url: '/api/v1/users/me/api-access',
        as: u.session,
        payload: { enabled: true },
      }),
      200,
    );
    const key = await h.accessKey(u.session);
    for (const param of ['api_key', 'apikey', 'apiKey', 'access_key', 'k', 'q']) {
      await h.request({ method: 'GET', url: `/api/v1/me?${param}=${key}`, as: u.session });
    }
    await h.request({ method: 'GET', url: `/api/v1/nothing/${key}` });
    const get = (params: Record<string, string>) =>
      h.app.inject({ method: 'GET', url: `/webservice.php?${new URLSearchParams(params)}` });
    const ch = (await get({ operation: 'getchallenge', username: u.username })).json();
    const login = await h.app.inject({
      method: 'POST',
      url: '/webservice.php',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        operation: 'login',
        username: u.username,
        accessKey: md5(ch.result.token + key),
      }).toString(),
    });
    const sessionName = login.json().result.sessionName;
    await get({
      operation: 'query',
      sessionName,
      query: `SELECT id FROM Contacts WHERE lastname = '${key}';`,
    });
    await get({ operation: 'query', sessionName, query: `SELECT id FROM Contacts WHERE ${key} = 1;` });
    // a key typed where the username goes: the failed login is logged and audited
    await h.request({ method: 'POST', url: '/api/v1/auth/login', payload: { username: key, password: key } });
    h.ctx.logger.warn({ note: `a key in an object: ${key}` }, `and in a message: ${key}`);
    const logs = h.allLogs();
    expect(logs).toContain('rpk_[Redacted]');
    expect(logs).not.toContain(key);
    expect(logs).not.toContain(key.slice(4, 30));
  });

  it('the shape rule: keys with and without a valid checksum; nothing else', () => {
    const key = generateAccessKey();
    const typo = `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`;
    expect(redactKeys(`x=${key}&y=${typo}`)).toBe('x=rpk_[Redacted]&y=rpk_[Redacted]');
    expect(redactKeys('rpk_short and rpk_ alone')).toBe('rpk_short and rpk_ alone');
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => lines.push(l) });
    log.info({ url: `/x?api_key=${key}` }, key);
    expect(lines.join('')).not.toContain(key);
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
