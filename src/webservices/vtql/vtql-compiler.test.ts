import SQLite from 'better-sqlite3';
import fc from 'fast-check';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WsError } from '../ws-errors.js';
import { compileVtql, type VtqlFieldTarget, type VtqlTarget } from './vtql-compiler.js';
import { parseVtql } from './vtql-parser.js';

// biome-ignore lint/suspicious/noExplicitAny: a throwaway table for compiler tests
let db: Kysely<any>;

const text = (col: string): VtqlFieldTarget => ({
  column: sql.ref(`t.${col}`),
  idLike: false,
  text: true,
  convert: (v) => v,
});
const int = (col: string, idLike = false): VtqlFieldTarget => ({
  column: sql.ref(`t.${col}`),
  idLike,
  text: false,
  convert: (v) => (/^-?\d+$/.test(v) ? Number(v) : undefined),
});
const FIELDS: Record<string, VtqlFieldTarget> = {
  id: int('id', true),
  lastname: text('lastname'),
  age: int('age'),
};
const target: VtqlTarget = { field: (n) => FIELDS[n], fieldNames: () => Object.keys(FIELDS) };

async function run(q: string): Promise<Array<{ id: number }>> {
  const c = compileVtql(parseVtql(q), target);
  let query = db.selectFrom('t').select('t.id');
  if (c.where) query = query.where(c.where);
  for (const o of c.orderBy ?? []) query = query.orderBy(o.expr, o.desc ? 'desc' : 'asc');
  return query.orderBy('t.id').limit(c.limit).offset(c.offset).execute();
}

describe('VTQL compiler', () => {
  beforeAll(async () => {
    db = new Kysely({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    await sql`create table t (id integer primary key, lastname text, age integer)`.execute(db);
    for (let i = 1; i <= 150; i++) {
      await sql`insert into t values (${i}, ${i === 7 ? "O'Brien" : `Name${i}`}, ${i % 50})`.execute(db);
    }
  });
  afterAll(() => db.destroy());

  it('always adds id and refuses unknown columns with Vtiger’s ACCESS_DENIED wording', () => {
    expect(compileVtql(parseVtql('SELECT lastname FROM M;'), target).select).toEqual(['lastname', 'id']);
    expect(() => compileVtql(parseVtql('SELECT nope FROM M;'), target)).toThrowError(
      "Permission to access '.nope.' attribute denied.",
    );
    expect(() => compileVtql(parseVtql("SELECT * FROM M WHERE nope = 'x';"), target)).toThrowError(
      'Permission to access nope attribute denied.',
    );
  });

  it('caps every LIMIT at 100 rows, with or without an offset', async () => {
    expect(await run('SELECT * FROM M;')).toHaveLength(100);
    expect(await run('SELECT * FROM M LIMIT 100000;')).toHaveLength(100);
    expect(await run('SELECT * FROM M LIMIT 10, 99999999999999999999;')).toHaveLength(100);
    expect(await run('SELECT * FROM M LIMIT 140, 50;')).toHaveLength(10);
  });

  it('filters with =, IN, LIKE (case-insensitive), NxM ids and AND binding tighter than OR', async () => {
    expect(await run("SELECT * FROM M WHERE lastname = 'O''Brien';")).toEqual([{ id: 7 }]);
    expect(await run("SELECT * FROM M WHERE lastname LIKE 'o''b%';")).toEqual([{ id: 7 }]);
    expect(await run("SELECT * FROM M WHERE id IN ('12x3', '12x5');")).toEqual([{ id: 3 }, { id: 5 }]);
    expect(await run("SELECT * FROM M WHERE id = '12x9' OR id = '12x3' AND age = 4;")).toEqual([{ id: 9 }]);
    expect(() => compileVtql(parseVtql("SELECT * FROM M WHERE id = '9';"), target)).toThrowError(
      'Id specified is incorrect',
    );
  });

  it('treats injection attempts in values as plain literals that match nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1 }), async (s) => {
        const literal = s.replaceAll("'", "''");
        for (const q of [
          `SELECT * FROM M WHERE lastname = '${literal}';`,
          `SELECT * FROM M WHERE lastname LIKE '${literal}';`,
          `SELECT * FROM M WHERE age IN ('${literal}', '1');`,
        ]) {
          try {
            const rows = await run(q);
            expect(rows.length).toBeLessThanOrEqual(100);
          } catch (e) {
            expect(e).toBeInstanceOf(WsError);
          }
        }
      }),
      { numRuns: 300 },
    );
    expect(await run("SELECT * FROM M WHERE lastname = 'x'' OR ''1''=''1';")).toEqual([]);
    const count = await sql<{ n: number }>`select count(*) as n from t`.execute(db);
    expect(count.rows[0]!.n).toBe(150);
  });
});
