import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { boundLimit, literalLimit } from './literal-limits.js';
import { prepared } from './prepared.js';

describeEachDialect('limits', (h) => {
  const keys = (limit: number) =>
    h.ctx.db.kysely
      .selectFrom('settings')
      .select('key')
      .where('key', 'like', 'limits.%')
      .orderBy('key')
      .limit(limit);
  const byPreparedLimit = prepared((db, prefix: string, limit: number) =>
    db.selectFrom('settings').select('key').where('key', 'like', prefix).orderBy('key').limit(limit),
  );

  beforeAll(async () => {
    await h.ctx.db.kysely
      .insertInto('settings')
      .values(['a', 'b', 'c', 'd'].map((k) => ({ key: `limits.${k}`, value: k, updated_at: 1 })))
      .execute();
  });

  it('writes a whole-number LIMIT into the SQL, which keeps the statement from being prepared or planned on every run', () => {
    const compiled = keys(7).offset(3).compile();
    expect(compiled.sql).toMatch(
      h.ctx.db.dialect === 'sqlite' ? / limit 7 offset \?$/ : / limit 7 offset \$2$/,
    );
    expect(compiled.parameters).toEqual(['limits.%', 3]);
  });

  it('keeps a LIMIT given as boundLimit bound: one statement for every value', async () => {
    const q = h.ctx.db.kysely
      .selectFrom('settings')
      .select('key')
      .where('key', 'like', 'limits.%')
      .orderBy('key')
      .limit(boundLimit(2));
    const compiled = q.compile();
    expect(compiled.sql).toMatch(h.ctx.db.dialect === 'sqlite' ? / limit \?$/ : / limit \$2$/);
    expect(compiled.parameters).toEqual(['limits.%', 2]);
    expect((await q.execute()).map((r) => r.key)).toEqual(['limits.a', 'limits.b']);
  });

  it('gives the same rows on both databases, for any limit, and leaves a prepared query bound', async () => {
    for (const n of [0, 1, 2, 4, 9]) {
      expect((await keys(n).execute()).map((r) => r.key)).toEqual(
        ['limits.a', 'limits.b', 'limits.c', 'limits.d'].slice(0, n),
      );
      const rows = (await byPreparedLimit(h.ctx.db.kysely, 'limits.%', n)).rows;
      expect(rows).toHaveLength(Math.min(n, 4));
    }
  });

  it('writes a LIMIT into a sql template only when it is a whole number', async () => {
    for (const bad of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])
      expect(() => literalLimit(bad)).toThrow(/whole number/);
    const { rows } = await sql<{ key: string }>`select key from settings where key like ${'limits.%'}
      order by key limit ${literalLimit(2)}`.execute(h.ctx.db.kysely);
    expect(rows.map((r) => r.key)).toEqual(['limits.a', 'limits.b']);
  });
});
