import { describe, expect, it } from 'vitest';
import { describeEachDialect, expectStatus, type Session } from '../../test/harness.js';
import { md5 } from '../../test/ws-kit.js';

/**
 * The real server end to end: /webservice.php registered in the app, keys from the access-key service.
 * A web-service session lives only as long as the key it was opened with (captures err-32…36 show Vtiger
 * keeping it; Rapport ends it).
 */
describeEachDialect('web services with real access keys', (h) => {
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

  async function accessKey(as: Session, who: number | 'me'): Promise<string> {
    const res = await h.request({ method: 'GET', url: `/api/v1/users/${who}/access-key`, as });
    expectStatus(res, 200);
    return res.json().accessKey;
  }

  async function login(username: string, key: string) {
    const ch = await get({ operation: 'getchallenge', username });
    return post({ operation: 'login', username, accessKey: md5(ch.result.token + key) });
  }

  async function apiAccess(as: Session, who: number | 'me', enabled: boolean) {
    expectStatus(
      await h.request({ method: 'PUT', url: `/api/v1/users/${who}/api-access`, as, payload: { enabled } }),
      200,
    );
  }

  it('logs in with the user’s key and serves listtypes', async () => {
    const u = await h.createUser();
    await apiAccess(u.session, 'me', true);
    const res = await login(u.username, await accessKey(u.session, 'me'));
    expect(res.success).toBe(true);
    expect((await get({ operation: 'listtypes', sessionName: res.result.sessionName })).success).toBe(true);
  });

  describe('a session ends with its key', () => {
    it('when the key is regenerated; the old key then fails and the new one works', async () => {
      const u = await h.createUser();
      await apiAccess(u.session, 'me', true);
      const oldKey = await accessKey(u.session, 'me');
      const s = (await login(u.username, oldKey)).result.sessionName;
      const pre = await get({ operation: 'getchallenge', username: u.username });
      expectStatus(
        await h.request({ method: 'POST', url: `/api/v1/users/${u.id}/access-key/regenerate`, as: h.admin }),
        200,
      );
      expect((await get({ operation: 'retrieve', sessionName: s, id: `19x${u.id}` })).error.code).toBe(
        'INVALID_SESSIONID',
      );
      expect(
        (await get({ operation: 'query', sessionName: s, query: 'SELECT id FROM Contacts LIMIT 1;' })).error
          .code,
      ).toBe('INVALID_SESSIONID');
      const withPreToken = await post({
        operation: 'login',
        username: u.username,
        accessKey: md5(pre.result.token + oldKey),
      });
      expect(withPreToken.error).toEqual({
        message: 'Invalid username or password',
        code: 'INVALID_USER_CREDENTIALS',
      });
      expect((await login(u.username, oldKey)).error.code).toBe('INVALID_USER_CREDENTIALS');
      expect((await login(u.username, await accessKey(u.session, 'me'))).success).toBe(true);
    });

    it('when an admin clears the key (Clear API Key)', async () => {
      const u = await h.createUser();
      await apiAccess(u.session, 'me', true);
      const key = await accessKey(u.session, 'me');
      const s = (await login(u.username, key)).result.sessionName;
      expectStatus(
        await h.request({ method: 'DELETE', url: `/api/v1/users/${u.id}/access-key`, as: h.admin }),
        204,
      );
      expect((await get({ operation: 'listtypes', sessionName: s })).error.code).toBe('INVALID_SESSIONID');
      expect((await login(u.username, key)).success).toBe(false);
    });

    it('when API access is turned off', async () => {
      const u = await h.createUser();
      await apiAccess(u.session, 'me', true);
      const key = await accessKey(u.session, 'me');
      const s = (await login(u.username, key)).result.sessionName;
      await apiAccess(u.session, 'me', false);
      expect((await get({ operation: 'listtypes', sessionName: s })).error.code).toBe('INVALID_SESSIONID');
      expect((await login(u.username, key)).error.code).toBe('INVALID_USER_CREDENTIALS');
    });

    it('when the user is deactivated', async () => {
      const u = await h.createUser();
      await apiAccess(u.session, 'me', true);
      const key = await accessKey(u.session, 'me');
      const s = (await login(u.username, key)).result.sessionName;
      expectStatus(
        await h.request({
          method: 'PATCH',
          url: `/api/v1/users/${u.id}`,
          as: h.admin,
          payload: { status: 'Inactive' },
        }),
        200,
      );
      expect((await get({ operation: 'listtypes', sessionName: s })).error.code).toBe('INVALID_SESSIONID');
    });
  });

  it('keeps keys, digests and session names out of the logs', async () => {
    const u = await h.createUser();
    await apiAccess(u.session, 'me', true);
    const key = await accessKey(u.session, 'me');
    const res = await login(u.username, key);
    await get({ operation: 'listtypes', sessionName: res.result.sessionName });
    const logs = h.allLogs();
    expect(logs).not.toContain(key);
    expect(logs).not.toContain(res.result.sessionName);
  });
});
