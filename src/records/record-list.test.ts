import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';

interface Row {
  id: number;
  lastname: string;
  title: string | null;
  birthday: string | null;
  donotcall: boolean;
  mailingzip: string | null;
}

describeEachDialect('record lists', (h) => {
  const rows: Row[] = [];
  beforeAll(async () => {
    const names = ['Adams', 'Baker', 'baker', 'Clark', 'Davis', 'Evans', "O'Hara", '100%_off'];
    for (let i = 0; i < 30; i++) {
      const payload = {
        lastname: names[i % names.length]!,
        title: i % 3 === 0 ? null : `T${i % 4}`,
        birthday: i % 4 === 0 ? null : `19${50 + (i % 7)}-0${1 + (i % 9)}-1${i % 10}`,
        donotcall: i % 2 === 0,
        mailingzip: i % 5 === 0 ? null : String(10000 + ((i * 7919) % 13)),
        department: 'list-test',
      };
      const res = await h.request({ method: 'POST', url: '/api/v1/records/Contacts', as: h.admin, payload });
      expectStatus(res, 201);
      rows.push(res.json() as Row);
    }
  }, 60_000);

  const list = async (query: string) => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Contacts?filter[department]=list-test&${query}`,
      as: h.admin,
    });
    expectStatus(res, 200);
    return res.json() as { items: Row[]; nextCursor: string | null; total?: number };
  };

  it('pages concatenate to the full sorted list for any sort and page size', async () => {
    const sortField = fc.constantFrom(
      'lastname',
      'title',
      'birthday',
      'donotcall',
      'mailingzip',
      'modifiedtime',
      'id',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ field: sortField, desc: fc.boolean() }), { minLength: 0, maxLength: 3 }),
        fc.integer({ min: 1, max: 9 }),
        async (keys, limit) => {
          const unique = keys.filter((k, i) => keys.findIndex((x) => x.field === k.field) === i);
          const sort = unique.map((k) => (k.desc ? '-' : '') + k.field).join(',');
          const full = await list(`sort=${encodeURIComponent(sort)}&limit=200`);
          expect(full.items).toHaveLength(rows.length);
          expect(full.nextCursor).toBeNull();
          const paged: number[] = [];
          let cursor: string | null = null;
          for (let guard = 0; guard < 40; guard++) {
            const page: Awaited<ReturnType<typeof list>> = await list(
              `sort=${encodeURIComponent(sort)}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
            );
            expect(page.items.length).toBeLessThanOrEqual(limit);
            paged.push(...page.items.map((r) => r.id));
            cursor = page.nextCursor;
            if (!cursor) break;
          }
          expect(paged).toEqual(full.items.map((r) => r.id));
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it('sorts nulls last ascending and first descending', async () => {
    const asc = (await list('sort=title,id&limit=200')).items.map((r) => r.title);
    expect(asc.slice(asc.indexOf(null))).toEqual(asc.filter((t) => t === null));
    const desc = (await list('sort=-title&limit=200')).items.map((r) => r.title);
    expect(desc.slice(0, desc.filter((t) => t === null).length).every((t) => t === null)).toBe(true);
  });

  it('filters with every operator', async () => {
    const count = async (q: string) => (await list(`${q}&limit=200`)).items.length;
    const n = (p: (r: Row) => boolean) => rows.filter(p).length;
    expect(await count('filter[lastname][eq]=Baker')).toBe(n((r) => r.lastname === 'Baker'));
    expect(await count('filter[lastname][ne]=Baker')).toBe(n((r) => r.lastname !== 'Baker'));
    expect(await count('filter[title][ne]=T1')).toBe(n((r) => r.title !== 'T1'));
    expect(await count('filter[birthday][lt]=1953-01-01')).toBe(
      n((r) => r.birthday !== null && r.birthday < '1953-01-01'),
    );
    expect(await count('filter[birthday][gte]=1953-01-01')).toBe(
      n((r) => r.birthday !== null && r.birthday >= '1953-01-01'),
    );
    expect(await count('filter[lastname][contains]=AKE')).toBe(
      n((r) => r.lastname.toLowerCase().includes('ake')),
    );
    expect(await count('filter[lastname][startswith]=b')).toBe(
      n((r) => r.lastname.toLowerCase().startsWith('b')),
    );
    expect(await count('filter[lastname][contains]=%25_')).toBe(n((r) => r.lastname.includes('%_')));
    expect(await count('filter[lastname][contains]=_')).toBe(n((r) => r.lastname.includes('_')));
    expect(await count('filter[lastname][in]=Adams,Clark')).toBe(
      n((r) => ['Adams', 'Clark'].includes(r.lastname)),
    );
    expect(await count('filter[title][empty]=true')).toBe(n((r) => r.title === null));
    expect(await count('filter[title][empty]=false')).toBe(n((r) => r.title !== null));
    expect(await count('filter[donotcall]=true')).toBe(n((r) => r.donotcall));
    expect(await count(`filter[id][gt]=${rows[10]!.id}`)).toBe(n((r) => r.id > rows[10]!.id));
    expect(await count(`filter[lastname]=O'Hara`)).toBe(n((r) => r.lastname === "O'Hara"));
    expect(
      await count(
        `filter[assigned_user_id]=${h.admin.userId}&filter[modifiedtime][lte]=2026-11-23T09:00:00Z`,
      ),
    ).toBe(rows.length);
    expect((await list('count=true&limit=1')).total).toBe(rows.length);
  });

  it('treats injection attempts in filters as plain data', async () => {
    for (const v of ["x' OR '1'='1", 'x"; drop table crm_entities; --', "') or 1=1 --"]) {
      expect((await list(`filter[lastname]=${encodeURIComponent(v)}`)).items).toEqual([]);
      expect((await list(`filter[lastname][contains]=${encodeURIComponent(v)}`)).items).toEqual([]);
    }
    expect((await list('limit=200')).items).toHaveLength(rows.length);
  });

  it.each([
    ['an unknown field', 'filter[nosuch]=1', 'FILTER_INVALID'],
    ['an unknown operator', 'filter[lastname][like]=1', 'FILTER_INVALID'],
    ['a malformed filter key', 'filter[lastname=1', 'FILTER_INVALID'],
    ['a wrongly typed value', 'filter[birthday][lt]=yesterday', 'FILTER_INVALID'],
    ['contains on a number', 'filter[id][contains]=1', 'FILTER_INVALID'],
    ['an unknown sort field', 'sort=-nosuch', 'SORT_INVALID'],
    ['a forged cursor', 'cursor=eyJzIjoiIiwidiI6W10sImlkIjoiMSJ9', 'CURSOR_INVALID'],
    ['a cursor for another sort', 'sort=lastname&cursor=eyJzIjoiIiwidiI6W10sImlkIjoxfQ', 'CURSOR_INVALID'],
    ['garbage as cursor', 'cursor=%%%', 'CURSOR_INVALID'],
    ['a huge limit', 'limit=100000', 'VALIDATION_FAILED'],
  ])('refuses %s with 400', async (_name, query, code) => {
    const res = await h.request({ method: 'GET', url: `/api/v1/records/Contacts?${query}`, as: h.admin });
    expectStatus(res, 400);
    expect(errorCode(res)).toBe(code);
  });

  it('never answers a fuzzed filter, sort or cursor with a 5xx', async () => {
    const key = fc.oneof(
      fc.constantFrom(
        'filter[lastname]',
        'filter[birthday][lt]',
        'filter[id][in]',
        'filter[donotcall][empty]',
        'sort',
        'cursor',
        'limit',
      ),
      fc.string({ maxLength: 30 }).map((s) => `filter[${s}]`),
      fc
        .tuple(
          fc.constantFrom('lastname', 'birthday', 'id', 'donotcall', 'createdtime', 'account_id'),
          fc.string({ maxLength: 12 }),
        )
        .map(([f, op]) => `filter[${f}][${op}]`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            key,
            fc.oneof(
              fc.string({ maxLength: 40 }),
              fc.string({ unit: 'grapheme', maxLength: 10 }),
              fc.integer().map(String),
              fc.constantFrom('\u0000', 'a\u0000b', '1e400', '-0', '9'.repeat(40)),
            ),
          ),
          { maxLength: 4 },
        ),
        async (pairs) => {
          const qs = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
          const res = await h.request({ method: 'GET', url: `/api/v1/records/Contacts?${qs}`, as: h.admin });
          if (res.statusCode >= 500) throw new Error(`${qs} → ${res.statusCode} ${res.body}`);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);
});
