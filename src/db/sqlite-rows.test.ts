import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { RawRowStatement } from './sqlite-rows.js';

describe('RawRowStatement', () => {
  it('returns the same objects as better-sqlite3, and follows an added column', () => {
    const db = new SQLite(':memory:');
    db.exec(
      "create table t (id integer primary key, a text, b real); insert into t values (1, 'x', 1.5), (2, null, null)",
    );
    const sql = 'select t.*, id as "__proto__", \'"\' as "q""uote" from t order by id';
    const plain = 'select t.*, \'"\' as "q""uote" from t order by id';
    expect(new RawRowStatement(db.prepare(plain)).all([])).toEqual(db.prepare(plain).all());
    // a column named __proto__ is an own property, never the prototype
    const raw = new RawRowStatement(db.prepare(sql));
    const [row] = raw.all([]);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.hasOwn(row!, '__proto__')).toBe(true);
    db.exec('alter table t add column c integer');
    raw.schemaChanged();
    expect(raw.all([])[0]).toEqual({ id: 1, a: 'x', b: 1.5, c: null, ['__proto__']: 1, 'q"uote': '"' });
    expect([...raw.iterate([])]).toHaveLength(2);
    expect(raw.all([]).length).toBe(2);
    db.close();
  });
});
