import { expect, it } from 'vitest';
import { describeEachDialect, errorCode } from './harness.js';

const PARALLEL = 10;

function statuses(results: { statusCode: number }[]): number[] {
  return results.map((r) => r.statusCode).sort();
}

describeEachDialect('parallel identical requests end in one success and conflicts, never a 500', (h) => {
  it('creating the same username ten times at once: one 201, the rest 409 naming the field', async () => {
    const payload = {
      username: 'racer',
      password: 'a-long-enough-password',
      lastName: 'Racer',
      email: 'racer@example.com',
    };
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        h.request({ method: 'POST', url: '/api/v1/users', as: h.admin, payload }),
      ),
    );
    const codes = statuses(results);
    expect(
      codes.filter((c) => c === 201),
      JSON.stringify(results.map((r) => r.body)),
    ).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(PARALLEL - 1);
    for (const r of results.filter((x) => x.statusCode === 409)) {
      // the service's own check (USERNAME_TAKEN) or, when the race reached the unique index, the mapped one
      expect(['USERNAME_TAKEN', 'CONFLICT'], r.body).toContain(errorCode(r));
      if (errorCode(r) === 'CONFLICT') expect(r.json().error.details?.field, r.body).toBe('username');
    }
    const rows = await h.ctx.db.kysely
      .selectFrom('users')
      .select('id')
      .where('username', '=', 'racer')
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('creating the same profile name ten times at once: one 201, the rest 409', async () => {
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        h.request({
          method: 'POST',
          url: '/api/v1/profiles',
          as: h.admin,
          payload: { name: 'Racing profile', permissions: {} },
        }),
      ),
    );
    const codes = statuses(results);
    expect(
      codes.filter((c) => c === 201),
      results.map((r) => r.body).join('\n'),
    ).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(PARALLEL - 1);
    for (const r of results.filter((x) => x.statusCode === 409)) {
      expect(['PROFILE_NAME_TAKEN', 'CONFLICT']).toContain(errorCode(r));
    }
  });

  it('creating twenty records of one module at once: each gets its own record number', async () => {
    const results = await Promise.all(
      Array.from({ length: PARALLEL * 2 }, (_, i) =>
        h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: h.admin,
          payload: { lastname: `Parallel ${i}` },
        }),
      ),
    );
    expect(statuses(results), results.map((r) => r.body).join('\n')).toEqual(Array(PARALLEL * 2).fill(201));
    const numbers = results.map((r) => (r.json() as { contact_no: string }).contact_no);
    expect(new Set(numbers).size).toBe(numbers.length);
    // taken in order with nothing failing: no gaps either
    const n = numbers.map((x) => Number(x.replace(/^\D+/, ''))).sort((a, b) => a - b);
    expect(n.at(-1)! - n[0]!).toBe(n.length - 1);
  });

  it('regenerating a key ten times at once: every request succeeds and one key is left, the last one', async () => {
    const u = await h.createUser();
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        h.request({ method: 'POST', url: `/api/v1/users/${u.id}/access-key/regenerate`, as: h.admin }),
      ),
    );
    expect(statuses(results), results.map((r) => r.body).join('\n')).toEqual(Array(PARALLEL).fill(200));
    const keys = await h.ctx.db.kysely
      .selectFrom('access_keys')
      .select('id')
      .where('user_id', '=', u.id)
      .execute();
    expect(keys).toHaveLength(1);
    const current = await h.accessKey(u.session);
    const issued = results.map((r) => (r.json() as { accessKey: string }).accessKey);
    expect(issued).toContain(current);
    const me = await h.request({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${current}` },
    });
    expect(me.statusCode, me.body).toBe(200);
  });
});
