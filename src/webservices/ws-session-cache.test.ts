import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus, type Session } from '../../test/harness.js';
import { md5 } from '../../test/ws-kit.js';
import { currentKeyId, loadKeyForSignIn, noteKeyUse } from '../access-keys/access-key.service.js';
import { AuthCache } from '../access-keys/auth-cache.js';
import type { AppContext } from '../context.js';
import { resolveWsSession } from './ws-session.service.js';

/**
 * Web-service sessions are served from the auth cache (≤ AUTH_CACHE_TTL_MS). Every test uses the session
 * first, so it is cached, then ends it: this process must refuse it at once, and a second replica (its
 * own cache, same database) within the cache's time-to-live.
 */
describeEachDialect('cached web-service sessions', (h) => {
  const deps = { keys: { loadKeyForSignIn, currentKeyId, noteKeyUse } };
  const get = async (params: Record<string, string>) =>
    (await h.app.inject({ method: 'GET', url: `/webservice.php?${new URLSearchParams(params)}` })).json();
  const post = async (params: Record<string, string>) =>
    (
      await h.app.inject({
        method: 'POST',
        url: '/webservice.php',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(params).toString(),
      })
    ).json();
  const replica = (): AppContext => ({ ...h.ctx, authCache: new AuthCache(h.clock, 500) });

  async function openSession(): Promise<{ id: number; session: Session; sessionName: string }> {
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
    const key = (await h.request({ method: 'GET', url: '/api/v1/users/me/access-key', as: u.session })).json()
      .accessKey as string;
    const ch = await get({ operation: 'getchallenge', username: u.username });
    const res = await post({
      operation: 'login',
      username: u.username,
      accessKey: md5(ch.result.token + key),
    });
    return { id: u.id, session: u.session, sessionName: res.result.sessionName };
  }

  const works = async (sessionName: string) =>
    (await get({ operation: 'listtypes', sessionName })).success as boolean;

  const endings: Array<[string, (u: { id: number; session: Session }) => Promise<unknown>]> = [
    [
      'its key is regenerated',
      (u) => h.request({ method: 'POST', url: `/api/v1/users/${u.id}/access-key/regenerate`, as: h.admin }),
    ],
    [
      'its key is cleared',
      (u) => h.request({ method: 'DELETE', url: `/api/v1/users/${u.id}/access-key`, as: h.admin }),
    ],
    [
      'API access goes off',
      (u) =>
        h.request({
          method: 'PUT',
          url: `/api/v1/users/${u.id}/api-access`,
          as: h.admin,
          payload: { enabled: false },
        }),
    ],
    [
      'the user is deactivated',
      (u) =>
        h.request({
          method: 'PATCH',
          url: `/api/v1/users/${u.id}`,
          as: h.admin,
          payload: { status: 'Inactive' },
        }),
    ],
  ];

  for (const [what, end] of endings) {
    it(`refuses a cached session at once when ${what}, and on another replica within the TTL`, async () => {
      const u = await openSession();
      const other = replica();
      expect(await works(u.sessionName)).toBe(true);
      await resolveWsSession(other, deps, u.sessionName, '127.0.0.1'); // cached on the other replica
      expect(((await end(u)) as { statusCode: number }).statusCode).toBeLessThan(300);
      expect(await works(u.sessionName)).toBe(false);
      h.clock.advance(500);
      await expect(resolveWsSession(other, deps, u.sessionName, '127.0.0.1')).rejects.toMatchObject({
        code: 'INVALID_SESSIONID',
      });
    });
  }

  it('refuses a cached session at once after logout', async () => {
    const u = await openSession();
    expect(await works(u.sessionName)).toBe(true);
    expect((await post({ operation: 'logout', sessionName: u.sessionName })).success).toBe(true);
    expect(await works(u.sessionName)).toBe(false);
  });

  it('keeps one user’s cached session from answering for another', async () => {
    const a = await openSession();
    const b = await openSession();
    const me = async (sessionName: string) =>
      (await get({ operation: 'retrieve', sessionName, id: `19x${a.id}` })).result?.id;
    await me(a.sessionName);
    await me(b.sessionName);
    const callerA = await resolveWsSession(h.ctx, deps, a.sessionName, '127.0.0.1');
    const callerB = await resolveWsSession(h.ctx, deps, b.sessionName, '127.0.0.1');
    expect(callerA.user.id).toBe(a.id);
    expect(callerB.user.id).toBe(b.id);
  });

  it('still ends an idle session while it is cached', async () => {
    const u = await openSession();
    expect(await works(u.sessionName)).toBe(true);
    h.clock.advance(30 * 60_000 + 1);
    expect((await get({ operation: 'listtypes', sessionName: u.sessionName })).error.code).toBe(
      'SESSION_LEFT_IDLE',
    );
  });
});
