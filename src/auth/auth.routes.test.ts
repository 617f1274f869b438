import { describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';
import { insertSession } from './session.repository.js';

describeEachDialect('sign-in and sessions', (h) => {
  it('signs in with the right password and sets an HttpOnly SameSite cookie', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expectStatus(res, 200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^rapport_session=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(res.json().user.username).toBe('admin');
    expect(res.json().csrfToken).toEqual(expect.any(String));
    expect(res.body).not.toContain('password');
  });

  it('usernames are case-insensitive at sign-in', async () => {
    const s = await h.login('ADMIN', ADMIN_PASSWORD);
    expect(s.userId).toBe(h.admin.userId);
  });

  it('rejects a wrong password with 401 and the error shape', async () => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: u.username, password: 'wrong-password-123' },
    });
    expectStatus(res, 401);
    const body = res.json();
    expect(body.error.code).toBe('INVALID_CREDENTIALS');
    expect(body.error.message).toEqual(expect.any(String));
    expect(body.error.requestId).toBe(res.headers['x-request-id']);
  });

  it('answers an unknown username exactly like a wrong password', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'nobody-here', password: 'whatever-123456' },
    });
    expectStatus(res, 401);
    expect(errorCode(res)).toBe('INVALID_CREDENTIALS');
  });

  it('refuses an inactive user', async () => {
    const u = await h.createUser();
    expectStatus(
      await h.request({
        method: 'PATCH',
        url: `/api/v1/users/${u.id}`,
        as: h.admin,
        payload: { status: 'Inactive' },
      }),
      200,
    );
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: u.username, password: u.password },
    });
    expectStatus(res, 403);
    expect(errorCode(res)).toBe('ACCOUNT_INACTIVE');
  });

  it('deactivating a user ends their sessions at once', async () => {
    const u = await h.createUser();
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: u.session }), 200);
    await h.request({
      method: 'PATCH',
      url: `/api/v1/users/${u.id}`,
      as: h.admin,
      payload: { status: 'Inactive' },
    });
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: u.session }), 401);
  });

  it('throttles failed sign-ins per username with 429 and Retry-After, then lets the right password through later', async () => {
    const u = await h.createUser();
    const max = h.ctx.config.loginThrottle.maxPerUser;
    for (let i = 0; i < max; i++) {
      expectStatus(
        await h.request({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: u.username, password: `wrong-${i}-xxxxxxxx` },
        }),
        401,
      );
    }
    const blocked = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: u.username, password: u.password },
    });
    expectStatus(blocked, 429);
    expect(errorCode(blocked)).toBe('TOO_MANY_ATTEMPTS');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    h.clock.advance(h.ctx.config.loginThrottle.windowMs + 1000);
    expectStatus(
      await h.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: u.username, password: u.password },
      }),
      200,
    );
  });

  it('throttles failed sign-ins per IP across usernames', async () => {
    const max = h.ctx.config.loginThrottle.maxPerIp;
    const remoteAddress = '203.0.113.9';
    for (let i = 0; i < max; i++) {
      await h.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress,
        payload: { username: `ghost${i}`, password: 'nope-nope-nope' },
      });
    }
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress,
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expectStatus(res, 429);
    h.clock.advance(h.ctx.config.loginThrottle.windowMs + 1000);
  });

  it('GET /me returns the user, the CSRF token and effective permissions', async () => {
    const u = await h.createUser();
    const res = await h.request({ method: 'GET', url: '/api/v1/me', as: u.session });
    expectStatus(res, 200);
    const me = res.json();
    expect(me.user.id).toBe(u.id);
    expect(me.authMethod).toBe('session');
    expect(me.csrfToken).toBe(u.session.csrfToken);
    expect(me.permissions.Contacts).toEqual({ view: true, create: true, edit: true, delete: true });
  });

  it('logout ends the session', async () => {
    const u = await h.createUser();
    expectStatus(await h.request({ method: 'POST', url: '/api/v1/auth/logout', as: u.session }), 204);
    const res = await h.request({ method: 'GET', url: '/api/v1/me', as: u.session });
    expectStatus(res, 401);
  });

  it('refuses a cookie-authenticated write without the CSRF token', async () => {
    const u = await h.createUser();
    const res = await h.request({
      method: 'PATCH',
      url: '/api/v1/users/me',
      as: u.session,
      noCsrf: true,
      payload: { firstName: 'X' },
    });
    expectStatus(res, 403);
    expect(errorCode(res)).toBe('CSRF_TOKEN_INVALID');
    const wrong = await h.request({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers: { cookie: u.session.cookie, 'x-csrf-token': 'nope' },
      payload: { firstName: 'X' },
    });
    expectStatus(wrong, 403);
  });

  it('ends a session after the idle timeout', async () => {
    const u = await h.createUser();
    h.clock.advance(h.ctx.config.session.idleMs + 1);
    const res = await h.request({ method: 'GET', url: '/api/v1/me', as: u.session });
    expectStatus(res, 401);
    expect(errorCode(res)).toBe('SESSION_EXPIRED');
    h.admin = await h.login('admin', ADMIN_PASSWORD);
  });

  it('ends a session at the absolute expiry even when in use', async () => {
    const u = await h.createUser();
    const step = h.ctx.config.session.idleMs / 2;
    for (let t = 0; t < h.ctx.config.session.absoluteMs; t += step) {
      h.clock.advance(step);
      await h.request({ method: 'GET', url: '/api/v1/me', as: u.session });
    }
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: u.session }), 401);
    h.admin = await h.login('admin', ADMIN_PASSWORD);
  });

  it('deletes sessions that expired without being presented again when someone signs in', async () => {
    const db = h.ctx.db.kysely;
    const u = await h.createUser();
    const now = h.clock.now();
    const { idleMs } = h.ctx.config.session;
    const add = (lastSeen: number, expires: number) =>
      insertSession(db, {
        token_hash: `t-${Math.random()}`,
        user_id: u.id,
        csrf_token: 'x',
        now: lastSeen,
        expires_at: expires,
        ip: '192.0.2.1',
        user_agent: 'test',
      });
    // idle too long, past the absolute end, and two in use
    const expired = [await add(now - idleMs, now + 3_600_000), await add(now - 1000, now)];
    const live = [await add(now, now + 3_600_000), await add(now, now + 7_200_000)];
    const left = async (ids: number[]) =>
      (await db.selectFrom('sessions').select('id').where('id', 'in', ids).execute()).length;
    // a sign-in sweeps them, at most once a minute per process
    h.clock.advance(60_001);
    h.admin = await h.login('admin', ADMIN_PASSWORD);
    expect(await left(expired)).toBe(0);
    expect(await left(live)).toBe(2);
    const again = await add(h.clock.now() - idleMs, h.clock.now() + 3_600_000);
    await h.login('admin', ADMIN_PASSWORD);
    expect(await left([again])).toBe(1);
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: h.admin }), 200);
  });

  it('audits sign-in success and failure without the password', async () => {
    const u = await h.createUser();
    await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: u.username, password: 'bad-password-xyz' },
    });
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=auth.login&actorUserId=${u.id}`,
      as: h.admin,
    });
    expectStatus(res, 200);
    const outcomes = res.json().items.map((e: { outcome: string }) => e.outcome);
    expect(outcomes).toContain('success');
    expect(outcomes).toContain('failure');
    expect(res.body).not.toContain('bad-password-xyz');
    expect(res.body).not.toContain(u.password);
  });
});

describe('password hashing', () => {
  it('stores argon2id hashes, never the password', async () => {
    const { createPasswordHasher } = await import('./password.js');
    const hasher = createPasswordHasher(true);
    const hash = await hasher.hash('correct horse battery');
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await hasher.verify(hash, 'correct horse battery')).toBe(true);
    expect(await hasher.verify(hash, 'wrong')).toBe(false);
    expect(await hasher.verify('not-a-hash', 'x')).toBe(false);
  });
});
