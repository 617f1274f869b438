import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus, type Harness } from '../../test/harness.js';
import { generateAccessKey, KEY_PREFIX } from './access-key.format.js';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (username: string, key: string) => ({
  authorization: `Basic ${Buffer.from(`${username}:${key}`).toString('base64')}`,
});
const me = (h: Harness, headers: Record<string, string>, remoteAddress?: string) =>
  h.request({ method: 'GET', url: '/api/v1/me', headers, remoteAddress });
/** A new user's valid key, presented from `remoteAddress`. */
const validKeyFrom = async (h: Harness, remoteAddress: string) =>
  me(h, bearer(await h.accessKey((await h.createUser()).session)), remoteAddress);

describeEachDialect('access keys', (h) => {
  it('every new user has a key from creation, and it works at once (Bearer and Basic)', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    expect(key.startsWith(KEY_PREFIX)).toBe(true);
    const viaBearer = await me(h, bearer(key));
    expectStatus(viaBearer, 200);
    expect(viaBearer.json()).toMatchObject({ user: { id: u.id }, authMethod: 'access-key', csrfToken: null });
    expectStatus(await me(h, basic(u.username, key)), 200);
    expectStatus(await me(h, basic(u.username.toUpperCase(), key)), 200);
  });

  it('shows the owner their key with its metadata', async () => {
    const u = await h.createUser();
    const res = await h.request({ method: 'GET', url: '/api/v1/users/me/access-key', as: u.session });
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({
      accessKey: expect.stringMatching(/^rpk_/),
      apiAccess: true,
      createdAt: expect.any(String),
      lastUsedAt: null,
      lastUsedIp: null,
    });
  });

  it('records last use (time and IP) without a write per request', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    await h.request({ method: 'GET', url: '/api/v1/me', headers: bearer(key), remoteAddress: '192.0.2.44' });
    const res = await h.request({ method: 'GET', url: '/api/v1/users/me/access-key', as: u.session });
    expect(res.json()).toMatchObject({
      lastUsedIp: '192.0.2.44',
      lastUsedAt: new Date(h.clock.now()).toISOString(),
    });
  });

  it('reveal=false gives only the status and hint, and is not audited as a reveal', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    const before = (
      await h.request({
        method: 'GET',
        url: `/api/v1/audit?action=access_key.viewed&targetId=${u.id}`,
        as: h.admin,
      })
    ).json().items.length;
    const res = await h.request({
      method: 'GET',
      url: '/api/v1/users/me/access-key?reveal=false',
      as: u.session,
    });
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({ accessKey: null, hasKey: true, apiAccess: true });
    expect(key.startsWith(res.json().hint.slice(0, 8))).toBe(true);
    expect(res.body).not.toContain(key);
    const after = (
      await h.request({
        method: 'GET',
        url: `/api/v1/audit?action=access_key.viewed&targetId=${u.id}`,
        as: h.admin,
      })
    ).json().items.length;
    expect(after).toBe(before);
  });

  it('admins see any user key; every reveal is audited without the key', async () => {
    const u = await h.createUser();
    const res = await h.request({ method: 'GET', url: `/api/v1/users/${u.id}/access-key`, as: h.admin });
    expectStatus(res, 200);
    const key = res.json().accessKey;
    expect(key).toBe(await h.accessKey(u.session));
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=access_key.viewed&targetId=${u.id}`,
      as: h.admin,
    });
    expect(audit.json().items.length).toBeGreaterThanOrEqual(2);
    expect(audit.body).not.toContain(key);
  });

  it('a non-admin asking for another user key gets 403 permission denied', async () => {
    const u = await h.createUser();
    const other = await h.createUser();
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/users/${other.id}/access-key`,
      as: u.session,
    });
    expectStatus(res, 403);
    expect(errorCode(res)).toBe('PERMISSION_DENIED');
    expect(res.json().error.message).toMatch(/permission/i);
    for (const [method, url] of [
      ['POST', `/api/v1/users/${other.id}/access-key/regenerate`],
      ['PUT', `/api/v1/users/${other.id}/api-access`],
    ] as const) {
      expectStatus(
        await h.request({
          method,
          url,
          as: u.session,
          payload: method === 'PUT' ? { enabled: false } : undefined,
        }),
        403,
      );
    }
  });

  it('regenerate: the old key fails on the very next request; the new one works; the reminder says to replace it', async () => {
    const u = await h.createUser();
    const oldKey = await h.accessKey(u.session);
    const res = await h.request({
      method: 'POST',
      url: `/api/v1/users/${u.id}/access-key/regenerate`,
      as: h.admin,
    });
    expectStatus(res, 200);
    const { accessKey: newKey, reminder } = res.json();
    expect(newKey).not.toBe(oldKey);
    expect(reminder).toMatch(/replace/i);
    const old = await me(h, bearer(oldKey));
    expectStatus(old, 401);
    expect(errorCode(old)).toBe('ACCESS_KEY_INVALID');
    expectStatus(await me(h, bearer(newKey)), 200);
  });

  it('a user regenerates their own key, also when authenticated by that key', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/users/me/access-key/regenerate',
      headers: bearer(key),
    });
    expectStatus(res, 200);
    expectStatus(await me(h, bearer(key)), 401);
    expectStatus(await me(h, bearer(res.json().accessKey)), 200);
  });

  it('API access off refuses the key with its own code; on again restores it', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    const off = await h.request({
      method: 'PUT',
      url: '/api/v1/users/me/api-access',
      as: u.session,
      payload: { enabled: false },
    });
    expectStatus(off, 200);
    expect(off.json().apiAccess).toBe(false);
    const refused = await me(h, bearer(key));
    expectStatus(refused, 403);
    expect(errorCode(refused)).toBe('API_ACCESS_DISABLED');
    expectStatus(
      await h.request({
        method: 'PUT',
        url: '/api/v1/users/me/api-access',
        as: u.session,
        payload: { enabled: true },
      }),
      200,
    );
    expectStatus(await me(h, bearer(key)), 200);
  });

  it('Clear API Key (admin) destroys the key and turns API access off until the user regenerates and enables', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    expectStatus(
      await h.request({ method: 'DELETE', url: `/api/v1/users/${u.id}/access-key`, as: h.admin }),
      204,
    );
    const cleared = await me(h, bearer(key));
    expectStatus(cleared, 401);
    expect(errorCode(cleared)).toBe('ACCESS_KEY_INVALID');
    const view = await h.request({ method: 'GET', url: '/api/v1/users/me/access-key', as: u.session });
    expect(view.json()).toMatchObject({ accessKey: null, apiAccess: false });
    const regenerated = await h.request({
      method: 'POST',
      url: '/api/v1/users/me/access-key/regenerate',
      as: u.session,
    });
    expect(regenerated.json().apiAccess).toBe(false);
    const newKey = regenerated.json().accessKey;
    expect(errorCode(await me(h, bearer(newKey)))).toBe('API_ACCESS_DISABLED');
    await h.request({
      method: 'PUT',
      url: '/api/v1/users/me/api-access',
      as: u.session,
      payload: { enabled: true },
    });
    expectStatus(await me(h, bearer(newKey)), 200);
  });

  it('turning API access on without a key generates one', async () => {
    const u = await h.createUser();
    await h.request({ method: 'DELETE', url: `/api/v1/users/${u.id}/access-key`, as: h.admin });
    const on = await h.request({
      method: 'PUT',
      url: '/api/v1/users/me/api-access',
      as: u.session,
      payload: { enabled: true },
    });
    expectStatus(on, 200);
    expect(on.json()).toMatchObject({ apiAccess: true, accessKey: expect.stringMatching(/^rpk_/) });
    expectStatus(await me(h, bearer(on.json().accessKey)), 200);
  });

  it('Clear API Key is for admins only', async () => {
    const u = await h.createUser();
    const res = await h.request({ method: 'DELETE', url: '/api/v1/users/me/access-key', as: u.session });
    expectStatus(res, 403);
  });

  it('API Management lists users with API access on, with key creation, last use and 24-hour request count', async () => {
    const u = await h.createUser();
    const off = await h.createUser();
    await h.request({
      method: 'PUT',
      url: '/api/v1/users/me/api-access',
      as: off.session,
      payload: { enabled: false },
    });
    const key = await h.accessKey(u.session);
    for (let i = 0; i < 3; i++) await me(h, bearer(key));
    const res = await h.request({ method: 'GET', url: '/api/v1/api-access/users', as: h.admin });
    expectStatus(res, 200);
    const row = res.json().items.find((i: { user: { id: number } }) => i.user.id === u.id);
    expect(row).toMatchObject({
      keyCreatedAt: expect.any(String),
      lastUsedAt: expect.any(String),
      lastUsedIp: '127.0.0.1',
      requestsLast24h: 3,
    });
    expect(res.json().items.some((i: { user: { id: number } }) => i.user.id === off.id)).toBe(false);
    expect(res.body).not.toContain(key);
  });

  it('deleting a user kills their key at once; a restored user has API access off and no key', async () => {
    const u = await h.createUser();
    const receiver = await h.createUser();
    const key = await h.accessKey(u.session);
    expectStatus(await me(h, bearer(key)), 200);
    expectStatus(
      await h.request({
        method: 'DELETE',
        url: `/api/v1/users/${u.id}?transferTo=${receiver.id}`,
        as: h.admin,
      }),
      200,
    );
    expect(errorCode(await me(h, bearer(key)))).toBe('ACCESS_KEY_INVALID');
    expectStatus(await h.request({ method: 'POST', url: `/api/v1/users/${u.id}/restore`, as: h.admin }), 200);
    const view = await h.request({ method: 'GET', url: `/api/v1/users/${u.id}/access-key`, as: h.admin });
    expect(view.json()).toMatchObject({ accessKey: null, apiAccess: false });
    expect(errorCode(await me(h, bearer(key)))).toBe('ACCESS_KEY_INVALID');
  });

  it('an inactive user cannot use their key', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    await h.request({
      method: 'PATCH',
      url: `/api/v1/users/${u.id}`,
      as: h.admin,
      payload: { status: 'Inactive' },
    });
    const res = await me(h, bearer(key));
    expectStatus(res, 403);
    expect(errorCode(res)).toBe('ACCOUNT_INACTIVE');
  });

  it('rejects a key pasted with spaces with a WHITESPACE code that says so', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    for (const headers of [
      { authorization: `Bearer  ${key}` },
      basic(u.username, `${key} `),
      basic(u.username, ` ${key}`),
    ]) {
      const res = await me(h, headers);
      expectStatus(res, 401);
      expect(errorCode(res)).toContain('WHITESPACE');
      expect(res.json().error.message).toMatch(/space/i);
    }
  });

  it('distinguishes malformed, mistyped (checksum) and unknown keys', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    expect(errorCode(await me(h, bearer('7IJXiH9gR4FfCPZp')))).toBe('ACCESS_KEY_MALFORMED');
    const typo = key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
    expect(errorCode(await me(h, bearer(typo)))).toBe('ACCESS_KEY_CHECKSUM_MISMATCH');
    const other = await h.createUser();
    expect(errorCode(await me(h, basic(other.username, key)))).toBe('ACCESS_KEY_INVALID');
    expect(errorCode(await me(h, { authorization: `Token ${key}` }))).toBe('UNSUPPORTED_AUTH_SCHEME');
  });

  it('throttles failed key attempts per IP with 429 and Retry-After', async () => {
    const remoteAddress = '198.51.100.200';
    const max = h.ctx.config.accessKeys.maxFailuresPerIp;
    for (let i = 0; i < max; i++) await me(h, bearer('nonsense'), remoteAddress);
    const res = await validKeyFrom(h, remoteAddress);
    expectStatus(res, 429);
    expect(errorCode(res)).toBe('TOO_MANY_KEY_FAILURES');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  // SQLite is one process: its failures are counted in memory, never by other replicas
  it.skipIf(h.dialect !== 'postgres')(
    'counts the failures other replicas wrote afresh at each lookup (the count is shared only while in flight)',
    async () => {
      const remoteAddress = '198.51.100.202';
      const u = await h.createUser();
      const key = await h.accessKey(u.session);
      const once = () => me(h, bearer(key), remoteAddress);
      expectStatus(await once(), 200);
      const at = h.clock.now();
      await h.ctx.db.kysely
        .insertInto('auth_failures')
        .values(
          Array.from({ length: h.ctx.config.accessKeys.maxFailuresPerIp }, () => ({
            scope: 'key-ip' as const,
            key: remoteAddress,
            at,
          })),
        )
        .execute();
      h.ctx.authCache.clear(); // the key is looked up again, so its address is checked again
      const res = await once();
      expectStatus(res, 429);
      expect(errorCode(res)).toBe('TOO_MANY_KEY_FAILURES');
    },
  );

  it('blocks an address whose wrong keys arrive all at once (they share a count, each failure still counts)', async () => {
    const remoteAddress = '198.51.100.201';
    const max = h.ctx.config.accessKeys.maxFailuresPerIp;
    const burst = await Promise.all(
      Array.from({ length: max * 2 }, () => me(h, bearer(generateAccessKey()), remoteAddress)),
    );
    for (const res of burst) expect([401, 429]).toContain(res.statusCode);
    const res = await validKeyFrom(h, remoteAddress);
    expectStatus(res, 429);
    expect(errorCode(res)).toBe('TOO_MANY_KEY_FAILURES');
  });

  it('keys never appear in the log, the audit log or the database in clear', async () => {
    const u = await h.createUser();
    const key = await h.accessKey(u.session);
    await me(h, bearer(key));
    await me(h, bearer(` ${key}`));
    const regenerated = (
      await h.request({ method: 'POST', url: '/api/v1/users/me/access-key/regenerate', as: u.session })
    ).json().accessKey;
    expect(h.allLogs()).not.toContain(key);
    expect(h.allLogs()).not.toContain(regenerated);
    const audit = JSON.stringify(await h.ctx.db.kysely.selectFrom('audit_log').selectAll().execute());
    expect(audit).not.toContain(key.slice(4, 20));
    expect(audit).not.toContain(regenerated.slice(4, 20));
    const keys = JSON.stringify(await h.ctx.db.kysely.selectFrom('access_keys').selectAll().execute());
    expect(keys).not.toContain(regenerated.slice(4, 20));
    expect(keys).not.toContain(key.slice(4, 20));
  });
});

describeEachDialect(
  'per-key request rate',
  (h) => {
    it('answers 429 with Retry-After once a key is over its rate, and recovers', async () => {
      const u = await h.createUser();
      const key = await h.accessKey(u.session);
      const limit = h.ctx.config.accessKeys.perMinute;
      for (let i = 0; i < limit; i++) expectStatus(await me(h, bearer(key)), 200);
      const res = await me(h, bearer(key));
      expectStatus(res, 429);
      expect(errorCode(res)).toBe('ACCESS_KEY_RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      h.clock.advance(60_000);
      expectStatus(await me(h, bearer(key)), 200);
    });
  },
  { accessKeys: { perMinute: 5, maxFailuresPerIp: 50, failureWindowMs: 300_000, usageFlushMs: 5000 } },
);
