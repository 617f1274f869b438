import { beforeAll, expect, it } from 'vitest';
import { describeEachDialect, errorCode, type Harness } from './harness.js';
import { RealKeys, WsKit } from './ws-kit.js';

const HUGE = '3000000000';

/** A 4xx with the usual body, never a 5xx: what every hostile request must get on both databases. */
function expectClientError(res: { statusCode: number; body: string }, status?: number): void {
  if (res.statusCode >= 500 || res.statusCode < 400 || (status && res.statusCode !== status))
    throw new Error(`expected a ${status ?? '4xx'}, got ${res.statusCode}: ${res.body}`);
  expect(JSON.parse(res.body).error.requestId).toEqual(expect.any(String));
}

async function usersCount(h: Harness): Promise<number> {
  const rows = await h.ctx.db.kysely.selectFrom('users').select('id').execute();
  return rows.length;
}

describeEachDialect('hostile input is refused at the edge, the same on both databases', (h) => {
  it('ids beyond the 32-bit columns in paths, queries and bodies are a 400', async () => {
    const before = await usersCount(h);
    for (const [method, url] of [
      ['GET', `/api/v1/users/${HUGE}`],
      ['DELETE', `/api/v1/roles/${HUGE}`],
      ['PATCH', `/api/v1/profiles/${HUGE}`],
      ['GET', `/api/v1/records/Contacts/${HUGE}`],
      ['GET', `/api/v1/users?roleId=${HUGE}`],
      ['GET', `/api/v1/audit?actorUserId=${HUGE}`],
      ['GET', `/api/v1/mail/outbox?before=${HUGE}`],
    ] as const) {
      const payload = method === 'PATCH' ? { description: 'x' } : undefined;
      const res = await h.request({ method, url, as: h.admin, payload });
      expectClientError(res, 400);
      expect(errorCode(res), url).toBe('VALIDATION_FAILED');
    }
    const create = await h.request({
      method: 'POST',
      url: '/api/v1/users',
      as: h.admin,
      payload: {
        username: 'huge_role',
        password: 'a-long-enough-password',
        lastName: 'X',
        email: 'huge@example.com',
        roleId: 2 ** 40,
      },
    });
    expectClientError(create, 400);
    expect(create.json().error.details, create.body).toEqual({ field: 'roleId' });
    const contact = await h.request({
      method: 'POST',
      url: '/api/v1/records/Contacts',
      as: h.admin,
      payload: { lastname: 'Ref', account_id: HUGE },
    });
    expectClientError(contact, 400);
    expect(await usersCount(h)).toBe(before);
  });

  it('NUL characters are a 400 wherever they are sent, signed in or not', async () => {
    const cases = [
      { method: 'POST', url: '/api/v1/auth/login', payload: { username: '\u0000', password: 'x' } },
      { method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: 'a\u0000b' } },
      { method: 'POST', url: '/api/v1/auth/forgot-password', payload: { email: 'a\u0000@example.com' } },
      { method: 'GET', url: '/api/v1/users?search=%00', as: h.admin },
      { method: 'GET', url: '/api/v1/records/Contacts?filter[lastname][contains]=%00', as: h.admin },
      { method: 'POST', url: '/api/v1/roles', as: h.admin, payload: { name: 'r\u0000', parentId: 1 } },
      {
        method: 'POST',
        url: '/api/v1/users',
        as: h.admin,
        payload: { username: 'nul\u0000user', password: 'a-long-enough-password', lastName: 'X' },
      },
    ] as const;
    for (const c of cases) {
      const res = await h.request({ ...c, payload: 'payload' in c ? c.payload : undefined });
      expectClientError(res, 400);
    }
  });
});

describeEachDialect('hostile input through the web services', (h) => {
  const ws = new WsKit(h, (hh) => new RealKeys(hh));
  let session: string;
  beforeAll(async () => {
    await ws.start();
    session = await ws.login('admin', h.admin.userId);
  });

  it('answers NUL, oversized ids and a trailing LIKE escape with the envelope, never an internal error', async () => {
    const requests: Record<string, string>[] = [
      { operation: 'getchallenge', username: '\u0000' },
      { operation: 'retrieve', id: `12x${HUGE}` },
      { operation: 'retrieve', id: '12x999999999999999' },
      { operation: 'query', query: "SELECT * FROM Contacts WHERE lastname LIKE 'abc\\';" },
      { operation: 'query', query: "SELECT * FROM Contacts WHERE lastname = 'a\u0000';" },
      { operation: 'query', query: `SELECT * FROM Contacts WHERE id = '12x${HUGE}';` },
      { operation: 'create', elementType: 'Contacts', element: '{"lastname":"a\\u0000b"}' },
      { operation: 'create', elementType: 'Contacts', element: `{"lastname":"x","account_id":"11x${HUGE}"}` },
    ];
    for (const params of requests) {
      const p = { ...params, sessionName: session };
      for (const res of [await ws.get(p), await ws.post(p)]) {
        expect(res.status, res.body).toBe(200);
        if (res.json.success === false)
          expect(res.json.error.code, res.body).not.toBe('INTERNAL_SERVER_ERROR');
      }
    }
  });
});
