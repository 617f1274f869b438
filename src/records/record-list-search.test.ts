import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';

interface Row {
  id: number;
  label: string;
  contact_no: string;
}

describeEachDialect('list search (q)', (h) => {
  const made: Row[] = [];
  beforeAll(async () => {
    const people = [
      { firstname: 'Jane', lastname: 'Doe', email: 'jane.doe@example.com', phone: '+1 555 0100' },
      { firstname: 'John', lastname: 'Doe', email: 'jd@example.org', mobile: '+44 20 7946 0999' },
      { firstname: 'Janet', lastname: 'Smith', email: 'janet@example.net' },
      { firstname: '100%', lastname: 'Under_score', email: 'odd@example.com' },
    ];
    for (const p of people) {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { ...p, department: 'search-test' },
      });
      expectStatus(res, 201);
      made.push(res.json() as Row);
    }
  }, 60_000);

  const search = async (q: string, extra = '') => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/records/Contacts?filter[department]=search-test&count=true&sort=lastname,firstname&q=${encodeURIComponent(q)}${extra}`,
      as: h.admin,
    });
    expectStatus(res, 200);
    return res.json() as { items: Row[]; total: number; nextCursor: string | null };
  };
  const labels = async (q: string) => (await search(q)).items.map((r) => r.label);

  it('finds by first name, full name, email, phone and record number, case-insensitively', async () => {
    await expect(labels('jane')).resolves.toEqual(['Jane Doe', 'Janet Smith']);
    await expect(labels('Jane Doe')).resolves.toEqual(['Jane Doe']);
    await expect(labels('doe jane')).resolves.toEqual(['Jane Doe']);
    await expect(labels('jane.doe')).resolves.toEqual(['Jane Doe']);
    await expect(labels('7946')).resolves.toEqual(['John Doe']);
    await expect(labels(made[2]!.contact_no)).resolves.toEqual(['Janet Smith']);
    await expect(labels('DOE')).resolves.toEqual(['Jane Doe', 'John Doe']);
    await expect(labels('nobody-like-this')).resolves.toEqual([]);
  });

  it('counts what it finds, combines with filters and pages with a cursor', async () => {
    const all = await search('doe');
    expect(all.total).toBe(2);
    const first = await search('doe', '&limit=1');
    expect(first.items.map((r) => r.label)).toEqual(['Jane Doe']);
    const second = await search('doe', `&limit=1&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(second.items.map((r) => r.label)).toEqual(['John Doe']);
    const filtered = await search('doe', '&filter[firstname]=John');
    expect(filtered.items.map((r) => r.label)).toEqual(['John Doe']);
    expect(filtered.total).toBe(1);
  });

  it('looks for words: % and _ are no wildcards, punctuation alone finds nothing, blank input is no search', async () => {
    await expect(labels('100%')).resolves.toEqual(['100% Under_score']);
    await expect(labels('under_score')).resolves.toEqual(['100% Under_score']);
    await expect(labels('_')).resolves.toEqual([]);
    await expect(labels('%')).resolves.toEqual([]);
    await expect(labels('   ')).resolves.toHaveLength(4);
  });

  it('matches the starts of words, as the global search does (one matcher for both)', async () => {
    await expect(labels('smi')).resolves.toEqual(['Janet Smith']);
    await expect(labels('mith')).resolves.toEqual([]);
    await expect(labels('example.net')).resolves.toEqual(['Janet Smith']);
    const global = await h.request({ method: 'GET', url: '/api/v1/search?q=smi', as: h.admin });
    expectStatus(global, 200);
    expect((global.json() as { items: Array<{ label: string }> }).items.map((i) => i.label)).toContain(
      'Janet Smith',
    );
  });

  it('searches other modules by their identifying fields (a lead by company)', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/records/Leads',
      as: h.admin,
      payload: { lastname: 'Prospect', company: 'Globex Corporation' },
    });
    expectStatus(res, 201);
    const found = await h.request({ method: 'GET', url: '/api/v1/records/Leads?q=globex', as: h.admin });
    expectStatus(found, 200);
    expect((found.json() as { items: Row[] }).items.map((r) => r.label)).toEqual(['Prospect']);
  });

  it('refuses an over-long search with a 400 and never answers any search with a 5xx', async () => {
    const long = await h.request({
      method: 'GET',
      url: `/api/v1/records/Contacts?q=${'a'.repeat(201)}`,
      as: h.admin,
    });
    expect(long.statusCode).toBe(400);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), async (q) => {
        const res = await h.request({
          method: 'GET',
          url: `/api/v1/records/Contacts?q=${encodeURIComponent(q)}`,
          as: h.admin,
        });
        expect(res.statusCode).toBeLessThan(500);
      }),
      { numRuns: Number(process.env.RAPPORT_FUZZ_RUNS ?? 40) },
    );
  });
});
