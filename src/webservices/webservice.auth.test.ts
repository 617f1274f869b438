import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, describeEachDialect, expectStatus } from '../../test/harness.js';
import { md5, WsKit } from '../../test/ws-kit.js';
import { countAndIssueChallenge, countChallengeCall } from './ws-session.repository.js';

const err = (res: { json: { success: boolean; error?: { code: string; message: string } } }) => {
  expect(res.json.success).toBe(false);
  return res.json.error!;
};

describeEachDialect('web services: challenge, login and sessions', (h) => {
  const ws = new WsKit(h);
  beforeAll(() => ws.start());
  afterAll(() => ws.stop());
  const admin = () => ({ username: 'admin', id: h.admin.userId });
  /** moves the clock; the admin's REST session would idle out with it, so sign in again */
  const advance = async (ms: number) => {
    h.clock.advance(ms);
    h.admin = await h.login('admin', ADMIN_PASSWORD);
  };

  it('answers getchallenge with a random 5-minute token on HTTP 200 JSON', async () => {
    const a = await ws.get({ operation: 'getchallenge', username: 'admin' });
    expect(a.status).toBe(200);
    expect(a.contentType).toMatch(/^application\/json/);
    expect(a.json.success).toBe(true);
    expect(a.json.result.token).toMatch(/^[0-9a-f]{32}$/);
    expect(a.json.result.expireTime - a.json.result.serverTime).toBe(300);
    const b = await ws.get({ operation: 'getchallenge', username: 'admin' });
    expect(b.json.result.token).not.toBe(a.json.result.token);
  });

  it('keeps every token of ten clients of one user at one address live until each logs in', async () => {
    await advance(61_000); // a fresh getchallenge-per-address window
    const key = await ws.keys.key(admin().id);
    // the worst interleaving: every client takes its token before any of them logs in
    const tokens = await Promise.all(Array.from({ length: 10 }, () => ws.challenge('admin')));
    const results: unknown[] = [];
    for (const t of tokens) {
      const r = await ws.post({ operation: 'login', username: 'admin', accessKey: md5(t + key) });
      results.push(r.json.success ? true : r.body);
    }
    expect(results).toEqual(Array(10).fill(true));
  });

  it('counts getchallenges per address in a statement that leaves the connection as it was', async () => {
    await h.ctx.db.kysely.connection().execute(async (conn) => {
      // on the connection held: SQLite has only the one
      const n = async () =>
        Number(
          (
            await conn
              .selectFrom('rate_counts')
              .select('n')
              .where('scope', '=', 'ws-challenge-ip')
              .where('key', '=', '198.51.100.7')
              .executeTakeFirst()
          )?.n ?? 0,
        );
      const admin = await conn
        .selectFrom('users')
        .select('id')
        .where('username', '=', 'admin')
        .executeTakeFirstOrThrow();
      const now = h.clock.now();
      const before = await n();
      // PostgreSQL: the count and the token in one statement that commits unflushed
      const call = (limit: number) =>
        h.dialect === 'postgres'
          ? countAndIssueChallenge(
              conn,
              admin.id,
              randomUUID(),
              '198.51.100.7',
              now,
              now + 1000,
              0,
              now - (now % 1000),
              limit,
            )
          : countChallengeCall(conn, '198.51.100.7', now);
      const answers = [];
      for (let i = 0; i < 2; i++)
        answers.push((await conn.executeQuery(call(before + 1).compile())).rows.length);
      expect(await n()).toBe(before + 2);
      if (h.dialect === 'postgres') {
        // the call at the limit got its token, the one past it none
        expect(answers).toEqual([1, 0]);
        // synchronous_commit went off for each statement's own commit only, never for the connection
        const { rows } = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(conn);
        expect(rows[0]!.synchronous_commit).toBe('on');
      }
    });
  });

  it('forgets getchallenge counts once they no longer count (a minute), instead of keeping every one', async () => {
    const counts = async () =>
      (
        await h.ctx.db.kysely
          .selectFrom('rate_counts')
          .select(['second', 'n'])
          .where('scope', '=', 'ws-challenge-ip')
          .execute()
      ).map((r) => [Number(r.second), Number(r.n)]);
    await ws.get({ operation: 'getchallenge', username: 'admin' });
    await ws.get({ operation: 'getchallenge', username: 'admin' });
    expect((await counts()).length).toBeGreaterThan(0);
    await advance(61_000);
    await ws.get({ operation: 'getchallenge', username: 'admin' });
    const now = h.clock.now();
    // only this call's second is left: the earlier ones were past the minute
    expect(await counts()).toEqual([[now - (now % 1000), 1]]);
  });

  it('refuses getchallenge without a username or for an unknown user, as Vtiger words it', async () => {
    expect(err(await ws.get({ operation: 'getchallenge' }))).toEqual({
      message: 'No username given',
      code: 'ACCESS_DENIED',
    });
    expect(err(await ws.get({ operation: 'getchallenge', username: 'nosuchuser' }))).toEqual({
      message: 'username does not exists',
      code: 'ACCESS_DENIED',
    });
  });

  it('logs in with md5(token + accessKey) and returns Vtiger login fields', async () => {
    const token = await ws.challenge('admin');
    const res = await ws.post({
      operation: 'login',
      username: 'admin',
      accessKey: md5(token + ws.keys.key(admin().id)),
    });
    expect(res.json.success).toBe(true);
    expect(Object.keys(res.json.result)).toEqual([
      'username',
      'first_name',
      'last_name',
      'email',
      'time_zone',
      'hour_format',
      'date_format',
      'is_admin',
      'call_duration',
      'other_event_duration',
      'sessionName',
      'userId',
      'version',
      'vtigerVersion',
    ]);
    expect(res.json.result.userId).toBe(`19x${admin().id}`);
    expect(res.json.result.is_admin).toBe('on');
    expect(res.json.result.sessionName).toMatch(/^[0-9a-f]{32}$/);
    expect(res.body).not.toContain(ws.keys.key(admin().id));
  });

  it.each([
    ['a wrong key', (t: string, k: string) => md5(`${t}wrong${k}`)],
    ['a key with a trailing space', (t: string, k: string) => md5(`${t}${k} `)],
    ['a digest with a trailing space', (t: string, k: string) => `${md5(t + k)} `],
    ['an uppercase digest', (t: string, k: string) => md5(t + k).toUpperCase()],
    ['the raw key', (_t: string, k: string) => k],
    ['an empty digest', () => ''],
  ])('refuses %s with INVALID_USER_CREDENTIALS', async (_name, digest) => {
    const u = await h.createUser();
    const token = await ws.challenge(u.username);
    const res = await ws.post({
      operation: 'login',
      username: u.username,
      accessKey: digest(token, ws.keys.key(u.id)),
    });
    expect(err(res)).toEqual({ message: 'Invalid username or password', code: 'INVALID_USER_CREDENTIALS' });
  });

  it('finds the user by name ignoring case and trailing spaces, as MariaDB does', async () => {
    for (const name of ['admin ', 'ADMIN']) {
      const token = await ws.challenge(name);
      const res = await ws.post({
        operation: 'login',
        username: name,
        accessKey: md5(token + ws.keys.key(admin().id)),
      });
      expect(res.json.result.username).toBe('admin');
    }
  });

  it('refuses an expired token; a later getchallenge leaves earlier tokens live (issue 14, finding 4)', async () => {
    const u = await h.createUser();
    const key = ws.keys.key(u.id);
    const old = await ws.challenge(u.username);
    await advance(301_000);
    let res = await ws.post({ operation: 'login', username: u.username, accessKey: md5(old + key) });
    expect(err(res)).toEqual({
      message: 'Specified token is invalid or expired',
      code: 'INVALID_AUTH_TOKEN',
    });
    const first = await ws.challenge(u.username);
    await ws.challenge(u.username);
    res = await ws.post({ operation: 'login', username: u.username, accessKey: md5(first + key) });
    expect(res.json.success).toBe(true);
  });

  it('accepts any live token of the client, not only the newest; a wrong digest fails against all of them', async () => {
    const u = await h.createUser();
    const key = ws.keys.key(u.id);
    const tokens: string[] = [];
    for (let i = 0; i < 12; i++) tokens.push(await ws.challenge(u.username));
    // the oldest (hashed last), one in the middle, the newest
    for (const token of [tokens[0]!, tokens[5]!, tokens[11]!]) {
      const res = await ws.post({ operation: 'login', username: u.username, accessKey: md5(token + key) });
      expect(res.json.success).toBe(true);
    }
    const wrong = await ws.post({
      operation: 'login',
      username: u.username,
      accessKey: md5(`${tokens[0]}x`),
    });
    expect(err(wrong).code).toBe('INVALID_USER_CREDENTIALS');
  });
  it('lets a token be used twice until it expires, each login opening its own session', async () => {
    const u = await h.createUser();
    const token = await ws.challenge(u.username);
    const digest = md5(token + ws.keys.key(u.id));
    const a = await ws.post({ operation: 'login', username: u.username, accessKey: digest });
    const b = await ws.post({ operation: 'login', username: u.username, accessKey: digest });
    expect(a.json.success && b.json.success).toBe(true);
    expect(a.json.result.sessionName).not.toBe(b.json.result.sessionName);
  });

  it('refuses an inactive user with the same INVALID_USER_CREDENTIALS', async () => {
    const u = await h.createUser();
    const token = await ws.challenge(u.username);
    const res = await h.request({
      method: 'PATCH',
      url: `/api/v1/users/${u.id}`,
      as: h.admin,
      payload: { status: 'Inactive' },
    });
    expectStatus(res, 200);
    const login = await ws.post({
      operation: 'login',
      username: u.username,
      accessKey: md5(token + ws.keys.key(u.id)),
    });
    expect(err(login)).toEqual({ message: 'Invalid username or password', code: 'INVALID_USER_CREDENTIALS' });
  });

  it('knows a renamed user only by the new name at once (users found by name are cached)', async () => {
    const u = await h.createUser();
    await ws.challenge(u.username);
    const renamed = `${u.username}-new`;
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: `/api/v1/users/${u.id}`,
        as: h.admin,
        payload: { username: renamed },
      }),
      200,
    );
    expect(err(await ws.get({ operation: 'getchallenge', username: u.username }))).toEqual({
      message: 'username does not exists',
      code: 'ACCESS_DENIED',
    });
    const token = await ws.challenge(renamed);
    const login = await ws.post({
      operation: 'login',
      username: renamed,
      accessKey: md5(token + ws.keys.key(u.id)),
    });
    expect(login.json.success).toBe(true);
  });

  it('refuses a user whose key was cleared with ACCESSKEY_UNDEFINED and with API access off as bad credentials', async () => {
    const u = await h.createUser();
    ws.keys.setApiAccess(u.id, false);
    let token = await ws.challenge(u.username);
    let res = await ws.post({
      operation: 'login',
      username: u.username,
      accessKey: md5(token + ws.keys.key(u.id)),
    });
    expect(err(res).code).toBe('INVALID_USER_CREDENTIALS');
    ws.keys.clear(u.id);
    token = await ws.challenge(u.username);
    res = await ws.post({ operation: 'login', username: u.username, accessKey: md5(token) });
    expect(err(res)).toEqual({
      message: 'Access key for the user is undefined',
      code: 'ACCESSKEY_UNDEFINED',
    });
  });

  it('rate-limits repeated wrong logins for one user', async () => {
    const u = await h.createUser();
    ws.keys.key(u.id);
    let last = null;
    for (let i = 0; i < 7; i++) {
      const token = await ws.challenge(u.username);
      last = await ws.post({ operation: 'login', username: u.username, accessKey: md5(`${token}nope`) });
    }
    expect(err(last!).code).toBe('TOO_MANY_ATTEMPTS');
  });

  describe('sessions', () => {
    it.each([
      ['no sessionName', {}, 'AUTHENTICATION_REQUIRED', 'Authencation required'],
      ['sessionName=null', { sessionName: 'null' }, 'AUTHENTICATION_REQUIRED', 'Authencation required'],
      [
        'a never-issued sessionName',
        { sessionName: '1234abcd5678ef901234a' },
        'INVALID_SESSIONID',
        'Session Identifier provided is Invalid',
      ],
      [
        'path characters',
        { sessionName: '../../etc/passwd' },
        'INVALID_SESSIONID',
        'Session Identifier provided is Invalid',
      ],
      [
        'a huge sessionName',
        { sessionName: 'a'.repeat(5000) },
        'INVALID_SESSIONID',
        'Session Identifier provided is Invalid',
      ],
    ])('refuses %s', async (_n, extra, code, message) => {
      expect(err(await ws.get({ operation: 'listtypes', ...extra }))).toEqual({ message, code });
    });

    it('ends a session after one day: SESSION_EXPIRED once, then INVALID_SESSIONID', async () => {
      const u = await h.createUser();
      const s = await ws.login(u.username, u.id);
      for (let i = 0; i < 49; i++) {
        await advance(29 * 60_000);
        expect((await ws.get({ operation: 'listtypes', sessionName: s })).json.success).toBe(true);
      }
      await advance(29 * 60_000);
      expect(err(await ws.get({ operation: 'listtypes', sessionName: s }))).toEqual({
        message: 'Session has life span over please login again',
        code: 'SESSION_EXPIRED',
      });
      expect(err(await ws.get({ operation: 'listtypes', sessionName: s })).code).toBe('INVALID_SESSIONID');
    });

    it('ends a session left idle 30 minutes: SESSION_LEFT_IDLE once, then INVALID_SESSIONID', async () => {
      const u = await h.createUser();
      const s = await ws.login(u.username, u.id);
      await advance(30 * 60_000 + 1000);
      expect(err(await ws.get({ operation: 'listtypes', sessionName: s }))).toEqual({
        message: 'Session has been invalidated to due lack activity',
        code: 'SESSION_LEFT_IDLE',
      });
      expect(err(await ws.get({ operation: 'listtypes', sessionName: s })).code).toBe('INVALID_SESSIONID');
    });

    it.each([
      ['the key is regenerated', (id: number) => void ws.keys.regenerate(id)],
      ['the key is cleared', (id: number) => ws.keys.clear(id)],
      ['API access is turned off', (id: number) => ws.keys.setApiAccess(id, false)],
    ])('ends sessions when %s (unlike Vtiger)', async (_n, change) => {
      const u = await h.createUser();
      const s = await ws.login(u.username, u.id);
      change(u.id);
      expect(err(await ws.get({ operation: 'listtypes', sessionName: s })).code).toBe('INVALID_SESSIONID');
    });

    it('ends sessions when the user is deactivated', async () => {
      const u = await h.createUser();
      const s = await ws.login(u.username, u.id);
      const res = await h.request({
        method: 'PATCH',
        url: `/api/v1/users/${u.id}`,
        as: h.admin,
        payload: { status: 'Inactive' },
      });
      expectStatus(res, 200);
      expect(err(await ws.get({ operation: 'listtypes', sessionName: s })).code).toBe('INVALID_SESSIONID');
    });

    it('notes each use of the key and sweeps dead sessions at the next login', async () => {
      const u = await h.createUser();
      const s = await ws.login(u.username, u.id);
      const before = ws.keys.used.length;
      await ws.get({ operation: 'listtypes', sessionName: s });
      expect(ws.keys.used.length).toBe(before + 1);
      await advance(31 * 60_000);
      await ws.login('admin', admin().id);
      const left = await h.ctx.db.kysely
        .selectFrom('ws_sessions')
        .select('id')
        .where('user_id', '=', u.id)
        .execute();
      expect(left).toEqual([]);
    });

    it('logs out with POST, after which the session is gone; logout by GET is refused', async () => {
      const s = await ws.login('admin', admin().id);
      expect(err(await ws.get({ operation: 'logout', sessionName: s }))).toEqual({
        message: 'Permission to perform the operation is denied',
        code: 'OPERATION_NOT_SUPPORTED',
      });
      const out = await ws.post({ operation: 'logout', sessionName: s });
      expect(out.json).toEqual({ success: true, result: { message: 'successfull' } });
      expect(err(await ws.get({ operation: 'listtypes', sessionName: s })).code).toBe('INVALID_SESSIONID');
    });
  });

  describe('protocol', () => {
    it('answers an unknown or missing operation with a JSON error instead of a crash', async () => {
      for (const params of [{ operation: 'frobnicate' }, {}] as Record<string, string>[]) {
        const res = await ws.get(params);
        expect(res.status).toBe(200);
        expect(err(res)).toEqual({ message: 'Unknown operation requested', code: 'UNKNOWN_OPERATION' });
      }
    });

    it('reads a POST operation from the form body only: login by GET has no parameters', async () => {
      const res = await ws.get({ operation: 'login', username: 'admin', accessKey: 'x' });
      expect(err(res).code).toBe('INVALID_AUTH_TOKEN');
    });

    it('ignores a JSON body and survives a malformed one', async () => {
      for (const payload of ['{"operation":"login"', '{"username":"admin"}']) {
        const res = await ws.app.inject({
          method: 'POST',
          url: '/webservice.php?operation=login',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(res.statusCode).toBe(200);
        expect(JSON.parse(res.body).error.code).toBe('INVALID_AUTH_TOKEN');
      }
    });

    it('answers a body over the limit with the envelope, not a crash', async () => {
      const res = await ws.app.inject({
        method: 'POST',
        url: '/webservice.php',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `operation=login&username=${'a'.repeat(2_000_000)}`,
      });
      expect(res.statusCode).toBe(413);
      expect(JSON.parse(res.body)).toEqual({
        success: false,
        error: { message: 'The request body is too large', code: 'INVALID_REQUEST' },
      });
    });

    it('sends the PHP no-cache headers', async () => {
      const res = await ws.app.inject({
        method: 'GET',
        url: '/webservice.php?operation=getchallenge&username=admin',
      });
      expect(res.headers['cache-control']).toBe('no-store, no-cache, must-revalidate');
      expect(res.headers.pragma).toBe('no-cache');
    });
  });
});
