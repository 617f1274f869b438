import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { dialectOf, insertRow, prepared, preparedInsert, preparedStatement } from './prepared.js';

describeEachDialect('prepared queries', (h) => {
  const settingByKey = prepared((db, key: string) =>
    db.selectFrom('settings').select(['key', 'value']).where('key', '=', key).where('value', '<>', 'never'),
  );
  const insertSettings = preparedInsert('settings', ['key', 'value', 'updated_at']);

  it('builds once and binds new arguments on every call, constants included', async () => {
    await insertSettings(h.ctx.db.kysely, [
      { key: 'prepared.a', value: 'one', updated_at: 1 },
      { key: 'prepared.b', value: 'two', updated_at: 1 },
    ]);
    expect((await settingByKey(h.ctx.db.kysely, 'prepared.a')).rows).toEqual([
      { key: 'prepared.a', value: 'one' },
    ]);
    expect((await settingByKey(h.ctx.db.kysely, 'prepared.b')).rows).toEqual([
      { key: 'prepared.b', value: 'two' },
    ]);
    expect((await settingByKey(h.ctx.db.kysely, 'prepared.none')).rows).toEqual([]);
  });

  it('runs inside a transaction and sees its rows', async () => {
    await h.ctx.db.kysely.transaction().execute(async (trx) => {
      await insertSettings(trx, [{ key: 'prepared.trx', value: 'inside', updated_at: 1 }]);
      expect((await settingByKey(trx, 'prepared.trx')).rows).toHaveLength(1);
    });
  });

  it('answers ids in row order for any number of rows, across batches', async () => {
    const insertEvents = preparedInsert('domain_events', ['type', 'payload', 'created_at'], {
      returningId: true,
    });
    for (const n of [1, 3, 501]) {
      const rows = Array.from({ length: n }, (_, i) => ({
        type: `prepared.${i}`,
        payload: '{}',
        created_at: i,
      }));
      const ids = await insertEvents(h.ctx.db.kysely, rows);
      expect(ids).toHaveLength(n);
      const stored = await h.ctx.db.kysely
        .selectFrom('domain_events')
        .select(['id', 'type'])
        .where('id', 'in', ids)
        .orderBy('id')
        .execute();
      expect(stored.map((r) => r.type)).toEqual(rows.map((r) => r.type));
      expect(stored.map((r) => Number(r.id))).toEqual(ids);
    }
  });

  it('answers the statement for given arguments without running it, and tells builders the dialect', async () => {
    const builtFor: string[] = [];
    const settingValue = preparedStatement((db, key: string) => {
      builtFor.push(dialectOf(db));
      return db.selectFrom('settings').select('value').where('key', '=', key);
    });
    await insertSettings(h.ctx.db.kysely, [{ key: 'prepared.stmt', value: 'three', updated_at: 1 }]);
    const statement = settingValue(h.ctx.db.kysely, 'prepared.stmt');
    expect((await h.ctx.db.kysely.executeQuery(statement.compile())).rows).toEqual([{ value: 'three' }]);
    const other = settingValue(h.ctx.db.kysely, 'prepared.none').compile();
    expect(other.parameters).toEqual(['prepared.none']);
    expect((await h.ctx.db.kysely.executeQuery(other)).rows).toEqual([]);
    // built once, for this database's dialect
    expect(builtFor).toEqual([h.dialect]);
  });

  it('refuses a builder that drops an argument instead of running the wrong query', async () => {
    const broken = prepared((db, _key: string) => db.selectFrom('settings').select('key'));
    await expect(broken(h.ctx.db.kysely, 'x')).rejects.toThrow(/lost one of its arguments/);
  });

  it('inserts one row of any columns, the text compiled once per column list', async () => {
    const db = h.ctx.db.kysely;
    const a = insertRow(db, 'settings', { key: 'row.a', value: 'one', updated_at: 1 });
    const b = insertRow(db, 'settings', { key: 'row.b', value: 'two', updated_at: 2 });
    // columns left undefined are left out, as Kysely leaves them
    const c = insertRow(db, 'settings', {
      key: 'row.c',
      value: 'three',
      updated_at: 3,
      updated_by_user_id: undefined,
    });
    const d = insertRow(db, 'settings', { value: 'four', key: 'row.d', updated_at: 4 });
    expect(b.sql).toBe(a.sql);
    expect(c.sql).toBe(a.sql);
    expect(b.parameters).toEqual(['row.b', 'two', 2]);
    expect(d.sql).not.toBe(a.sql);
    expect(d.parameters).toEqual(['four', 'row.d', 4]);
    for (const q of [a, b, c, d]) await db.executeQuery(q);
    const rows = await db
      .selectFrom('settings')
      .select(['key', 'value', 'updated_at'])
      .where('key', 'like', 'row.%')
      .orderBy('key')
      .execute();
    expect(rows).toEqual([
      { key: 'row.a', value: 'one', updated_at: 1 },
      { key: 'row.b', value: 'two', updated_at: 2 },
      { key: 'row.c', value: 'three', updated_at: 3 },
      { key: 'row.d', value: 'four', updated_at: 4 },
    ]);
    // a value Kysely does not bind makes a text of its own, never reused for other values
    const e = insertRow(db, 'settings', { key: 'row.e', value: sql<string>`'five'`, updated_at: 5 });
    const f = insertRow(db, 'settings', { key: 'row.f', value: 'six', updated_at: 6 });
    expect(e.sql).not.toBe(a.sql);
    expect(f.sql).toBe(a.sql);
    expect(f.parameters).toEqual(['row.f', 'six', 6]);
  });
});
